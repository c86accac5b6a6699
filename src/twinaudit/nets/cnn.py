"""A small convolutional network for 8×8 grey images (scikit-learn's digits).

conv 3×3 → conv 3×3 → 2×2 max pool → flatten → dense head → one logit per class.
On 8×8×1 inputs with the defaults: 6×6×8 → 4×4×16 → 2×2×16 → 64 → 32 → 10.

Inputs are channels-last (height, width, channels) as Keras has them; the torch twin moves
the channel axis first for its convolutions and back last before flattening (see
:class:`~twinaudit.nets.layers.Flatten`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twinaudit.nets.layers import Conv2D, Dense, Flatten, Layer, MaxPool2D, Shape
from twinaudit.nets.network import Network


@dataclass(frozen=True)
class CNNNetwork(Network):
    """Two (or more) valid convolutions, one max pool, a dense head, ``n_outputs`` logits."""

    image_shape: tuple[int, int, int] = (8, 8, 1)
    filters: tuple[int, ...] = (8, 16)
    kernel_size: int = 3
    pool_size: int = 2
    hidden: tuple[int, ...] = (32,)
    n_outputs: int = 10
    activation: str = "relu"
    kind: ClassVar[str] = "cnn"

    @property
    def input_shape(self) -> Shape:
        return tuple(self.image_shape)

    def layers(self) -> list[Layer]:
        return [
            *(Conv2D(filters, self.kernel_size, self.activation) for filters in self.filters),
            MaxPool2D(self.pool_size),
            Flatten(),
            *(Dense(width, self.activation) for width in self.hidden),
            Dense(self.n_outputs),
        ]
