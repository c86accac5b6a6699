"""The multilayer perceptron, described once for both frameworks.

Weights travel between frameworks in one canonical layout, Keras' own: a dense kernel is
(inputs, outputs). The torch twin transposes on the way in and out (``Linear.weight`` is
(outputs, inputs)); nothing else about the layers differs.

The beginner's SimpleNet 3→5→2 is this network with ``n_inputs=3, hidden=(5,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twinaudit.nets.layers import Dense, Dropout, Layer, Shape
from twinaudit.nets.network import Network


@dataclass(frozen=True)
class MLPNetwork(Network):
    """Dense layers of the given widths with one activation, and a 2-logit output layer."""

    n_inputs: int
    hidden: tuple[int, ...] = (64, 32)
    n_outputs: int = 2
    activation: str = "relu"
    dropout: float = 0.0
    l2: float = 0.0
    kind: ClassVar[str] = "mlp"

    @property
    def input_shape(self) -> Shape:
        return (self.n_inputs,)

    @property
    def widths(self) -> list[int]:
        """Inputs, hidden widths and outputs, in order."""
        return [self.n_inputs, *self.hidden, self.n_outputs]

    def layers(self) -> list[Layer]:
        layers: list[Layer] = []
        for width in self.hidden:
            layers.append(Dense(width, self.activation))
            if self.dropout > 0:
                layers.append(Dropout(self.dropout))
        return [*layers, Dense(self.n_outputs)]

    def without_dropout(self) -> MLPNetwork:
        return MLPNetwork(self.n_inputs, self.hidden, self.n_outputs, self.activation, 0.0, self.l2)
