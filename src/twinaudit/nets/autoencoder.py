"""A dense autoencoder: the input squeezed through a bottleneck and reproduced.

Trained on mean squared reconstruction error per row; its per-row error on new data is an
anomaly score (see :mod:`twinaudit.audits.anomaly`). The output layer is linear because the
inputs (standardised numbers and one-hot columns) are not bounded to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twinaudit.nets.layers import Dense, Layer, Shape
from twinaudit.nets.network import Network
from twinaudit.nets.tasks import RECONSTRUCTION, Task


@dataclass(frozen=True)
class AutoencoderNetwork(Network):
    """Dense layers of widths ``hidden`` (encoder, bottleneck, decoder), then a linear
    reconstruction of the ``n_inputs`` features."""

    n_inputs: int
    hidden: tuple[int, ...] = (32, 8, 32)
    activation: str = "relu"
    kind: ClassVar[str] = "autoencoder"
    task: ClassVar[Task] = RECONSTRUCTION

    @property
    def input_shape(self) -> Shape:
        return (self.n_inputs,)

    def layers(self) -> list[Layer]:
        return [*(Dense(width, self.activation) for width in self.hidden),
                Dense(self.n_inputs)]
