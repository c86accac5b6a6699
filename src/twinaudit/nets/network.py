"""What every network spec shares: a list of layers, named parameters, numpy initial weights.

A network spec is a frozen dataclass of the few settings a user chooses; ``layers()`` turns it
into the framework-neutral layer list of :mod:`twinaudit.nets.layers`. Everything derived from
that list (parameter names and shapes, initial weights) is written once, here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import Field, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from twinaudit.nets.layers import Dropout, Layer, Shape
from twinaudit.nets.tasks import CLASSIFICATION, Task


@dataclass(frozen=True)
class NamedLayer:
    """A layer with its canonical name (``dense_0``, ``conv_1``...) and its input row shape."""

    name: str
    layer: Layer
    input_shape: Shape

    def parameter_shapes(self) -> dict[str, Shape]:
        return self.layer.parameter_shapes(self.input_shape)


class Network(ABC):
    """Mixin of every network spec. Subclasses define ``input_shape``, ``layers()`` and ``kind``.

    Attributes
    ----------
    kind : str
        The ``[network] kind`` of the audit definition.
    task : Task
        What the network is trained to do (:mod:`twinaudit.nets.tasks`).
    input_dtype : str
        ``"float32"`` for features and images, ``"int32"`` for token ids.
    """

    if TYPE_CHECKING:
        # Every concrete network spec is a dataclass: this tells the type checker that
        # dataclasses.asdict and fields accept one (it changes nothing at run time).
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    kind: ClassVar[str]
    task: ClassVar[Task] = CLASSIFICATION
    input_dtype: ClassVar[str] = "float32"
    #: The L2 penalty on kernels (Keras' ``kernel_regularizer``, biases exempt); 0 for the
    #: networks that take none. A network with an ``l2`` setting declares it as a field.
    l2: float = 0.0

    @property
    @abstractmethod
    def input_shape(self) -> Shape:
        """One example's shape (no batch dimension)."""

    @abstractmethod
    def layers(self) -> list[Layer]:
        """The framework-neutral layers, in order."""

    def named_layers(self) -> Iterator[NamedLayer]:
        """Every layer with its name (type and index among layers of that type) and input."""
        counts: dict[str, int] = {}
        shape = self.input_shape
        for layer in self.layers():
            index = counts.get(layer.kind, 0)
            counts[layer.kind] = index + 1
            yield NamedLayer(f"{layer.kind}_{index}", layer, shape)
            shape = layer.output_shape(shape)

    def parameter_shapes(self) -> dict[str, Shape]:
        """Canonical parameter names (``layer.parameter``) and Keras-layout shapes, in order."""
        return {f"{named.name}.{parameter}": shape for named in self.named_layers()
                for parameter, shape in named.parameter_shapes().items()}

    @property
    def n_parameters(self) -> int:
        return int(sum(np.prod(shape) for shape in self.parameter_shapes().values()))

    @property
    def output_size(self) -> int:
        """Width of the network's output row: classes, or the reconstructed features."""
        shape = self.input_shape
        for layer in self.layers():
            shape = layer.output_shape(shape)
        return shape[-1]

    @property
    def has_dropout(self) -> bool:
        return any(isinstance(layer, Dropout) and layer.rate > 0 for layer in self.layers())

    def without_dropout(self) -> Network:
        """The same network with dropout off (for the one-step parity check)."""
        return self


def initial_weights(spec: Network, seed: int) -> dict[str, np.ndarray]:
    """Every parameter drawn from one ``numpy`` generator seeded with ``seed``, float32.

    Layers draw in order (Glorot-uniform kernels, orthogonal recurrent kernels, U(±0.05)
    embeddings, zero biases). Both twins are loaded with exactly these arrays, so neither
    framework's own initialiser (nor its random number generator) plays any part.
    """
    rng = np.random.default_rng(seed)
    weights = {}
    for named in spec.named_layers():
        for parameter, value in named.layer.initial_parameters(named.input_shape, rng).items():
            weights[f"{named.name}.{parameter}"] = value
    return weights
