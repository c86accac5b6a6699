"""Framework-neutral network specifications and their initial weights, drawn once in numpy.

One spec class per ``[network] kind``; each is a list of layers from
:mod:`twinaudit.nets.layers`, with parameters in one canonical (Keras) layout.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from twinaudit.nets.autoencoder import AutoencoderSpec
from twinaudit.nets.cnn import CNNSpec
from twinaudit.nets.lstm import LSTMSpec
from twinaudit.nets.mlp import MLPSpec
from twinaudit.nets.network import CLASSIFICATION, RECONSTRUCTION, Network, initial_weights

__all__ = ["MLPSpec", "CNNSpec", "LSTMSpec", "AutoencoderSpec", "Network", "CLASSIFICATION",
           "RECONSTRUCTION", "initial_weights", "NETWORK_CLASSES", "network_to_dict",
           "network_from_dict"]

NETWORK_CLASSES: dict[str, type[Network]] = {
    spec.kind: spec for spec in (MLPSpec, CNNSpec, LSTMSpec, AutoencoderSpec)}


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
