"""The multilayer perceptron, described once for both frameworks.

Weights travel between frameworks in one canonical layout, Keras' own: a dense kernel is
(inputs, outputs). The torch twin transposes on the way in and out (``Linear.weight`` is
(outputs, inputs)); nothing else about the layers differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twinaudit.spec import NetworkSection


@dataclass(frozen=True)
class MLPSpec:
    """Dense layers of the given widths with one activation, and a 2-logit output layer."""

    n_inputs: int
    hidden: tuple[int, ...] = (64, 32)
    n_outputs: int = 2
    activation: str = "relu"
    dropout: float = 0.0
    l2: float = 0.0

    @classmethod
    def from_section(cls, section: NetworkSection, *, n_inputs: int) -> MLPSpec:
        return cls(
            n_inputs=n_inputs, hidden=tuple(section.hidden), activation=section.activation,
            dropout=section.dropout, l2=section.l2,
        )

    @property
    def widths(self) -> list[int]:
        """Inputs, hidden widths and outputs, in order."""
        return [self.n_inputs, *self.hidden, self.n_outputs]

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Canonical parameter names and (Keras-layout) shapes, in layer order."""
        shapes = {}
        for index, (fan_in, fan_out) in enumerate(zip(self.widths[:-1], self.widths[1:])):
            shapes[f"dense_{index}.kernel"] = (fan_in, fan_out)
            shapes[f"dense_{index}.bias"] = (fan_out,)
        return shapes

    def without_dropout(self) -> MLPSpec:
        return MLPSpec(self.n_inputs, self.hidden, self.n_outputs, self.activation, 0.0, self.l2)


def initial_weights(spec: MLPSpec, seed: int) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels and zero biases, float32, drawn from ``numpy`` with ``seed``.

    Both twins are loaded with exactly these arrays, so neither framework's own initialiser
    (nor its random number generator) plays any part.
    """
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in spec.parameter_shapes().items():
        if name.endswith(".kernel"):
            limit = np.sqrt(6.0 / (shape[0] + shape[1]))
            weights[name] = rng.uniform(-limit, limit, size=shape).astype(np.float32)
        else:
            weights[name] = np.zeros(shape, dtype=np.float32)
    return weights
