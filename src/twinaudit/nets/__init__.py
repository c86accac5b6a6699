"""Framework-neutral networks and their initial weights, drawn once in numpy.

One network class per ``[network] kind`` (``MLPNetwork``, ``CNNNetwork`` ...); each is a list
of layers from :mod:`twinaudit.nets.layers`, with parameters in one canonical (Keras) layout.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from twinaudit.nets.autoencoder import AutoencoderNetwork
from twinaudit.nets.cnn import CNNNetwork
from twinaudit.nets.lstm import LSTMNetwork
from twinaudit.nets.mlp import MLPNetwork
from twinaudit.nets.network import Network, initial_weights
from twinaudit.nets.tasks import CLASSIFICATION, RECONSTRUCTION, Task

__all__ = ["MLPNetwork", "CNNNetwork", "LSTMNetwork", "AutoencoderNetwork", "Network",
           "CLASSIFICATION", "RECONSTRUCTION", "Task", "initial_weights", "NETWORK_CLASSES",
           "network_to_dict", "network_from_dict"]

NETWORK_CLASSES: dict[str, type[Network]] = {
    spec.kind: spec for spec in (MLPNetwork, CNNNetwork, LSTMNetwork, AutoencoderNetwork)}


def network_to_dict(network: Network) -> dict[str, Any]:
    """The spec's settings as plain data (tuples as lists), for JSON."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(network).items()}


def network_from_dict(kind: str, settings: dict[str, Any]) -> Network:
    """Rebuild a spec from :func:`network_to_dict` output (lists back to tuples)."""
    cls = NETWORK_CLASSES[kind]
    names = {field.name for field in fields(cls)}
    return cls(**{key: tuple(value) if isinstance(value, list) else value
                  for key, value in settings.items() if key in names})
