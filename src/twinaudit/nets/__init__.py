"""Framework-neutral network specifications and their initial weights, drawn once in numpy."""

from twinaudit.nets.mlp import MLPSpec, initial_weights

__all__ = ["MLPSpec", "initial_weights"]
