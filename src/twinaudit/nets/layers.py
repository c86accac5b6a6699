"""The layer types every network is made of, described once for both frameworks.

A layer here is plain data: its settings, the (Keras-layout) shapes of its parameters given
the shape of one input row, the shape of its output row, and how its parameters are drawn in
numpy. The per-framework builders (``twins/torch_layers.py``, ``twins/keras_layers.py``) turn
each type into a module and hold the only layout conversion of that type.

Shapes are per row (no batch axis) and channels-last, as Keras has them: an image is
(height, width, channels), a token sequence is (length,).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

Shape = tuple[int, ...]


def glorot_uniform(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Keras' default kernel initialiser: U(±sqrt(6 / (fan_in + fan_out))), float32.

    For a convolution kernel (kh, kw, in, out) the fans are multiplied by the receptive field
    kh·kw, as Keras computes them.
    """
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive_field, shape[-1] * receptive_field
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def orthogonal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Keras' default recurrent initialiser: an orthogonal matrix from the QR of a normal draw."""
    rows, columns = shape
    normal = rng.normal(size=(max(rows, columns), min(rows, columns)))
    q, r = np.linalg.qr(normal)
    q *= np.sign(np.diag(r))  # makes the decomposition unique, as Keras does
    return (q.T if rows < columns else q).astype(np.float32)


@dataclass(frozen=True)
class Layer:
    """A layer without parameters that keeps the shape (the base of every type)."""

    kind: ClassVar[str] = "layer"

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """Parameter name -> shape in the canonical (Keras) layout; empty if none."""
        return {}

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def initial_parameters(self, input_shape: Shape,
                           rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw this layer's parameters, in ``parameter_shapes`` order, from ``rng``."""
        return {}


@dataclass(frozen=True)
class Dense(Layer):
    """y = activation(x · kernel + bias); kernel (inputs, units)."""

    units: int
    activation: str | None = None
    kind: ClassVar[str] = "dense"

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"kernel": (input_shape[-1], self.units), "bias": (self.units,)}

    def output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def initial_parameters(self, input_shape, rng):
        shapes = self.parameter_shapes(input_shape)
        return {"kernel": glorot_uniform(rng, shapes["kernel"]),
                "bias": np.zeros(shapes["bias"], dtype=np.float32)}


@dataclass(frozen=True)
class Conv2D(Layer):
    """A 'valid' 2-D convolution with stride 1; kernel (kh, kw, in, filters)."""

    filters: int
    kernel_size: int
    activation: str | None = None
    kind: ClassVar[str] = "conv"

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        size = self.kernel_size
        return {"kernel": (size, size, input_shape[-1], self.filters), "bias": (self.filters,)}

    def output_shape(self, input_shape: Shape) -> Shape:
        height, width, _ = input_shape
        return (height - self.kernel_size + 1, width - self.kernel_size + 1, self.filters)

    def initial_parameters(self, input_shape, rng):
        shapes = self.parameter_shapes(input_shape)
        return {"kernel": glorot_uniform(rng, shapes["kernel"]),
                "bias": np.zeros(shapes["bias"], dtype=np.float32)}


@dataclass(frozen=True)
class MaxPool2D(Layer):
    """Non-overlapping max pooling (stride = pool size, 'valid')."""

    pool_size: int = 2
    kind: ClassVar[str] = "pool"

    def output_shape(self, input_shape: Shape) -> Shape:
        height, width, channels = input_shape
        return (height // self.pool_size, width // self.pool_size, channels)


@dataclass(frozen=True)
class Flatten(Layer):
    """Rows flattened in channels-last (height, width, channel) order in both frameworks.

    torch's tensors are channels-first, so the torch builder moves the channel axis last
    before flattening. The features then come out in Keras' order, and the Dense kernel that
    follows needs no row reordering: the layout conversion stays in this one layer type.
    """

    kind: ClassVar[str] = "flatten"

    def output_shape(self, input_shape: Shape) -> Shape:
        return (int(np.prod(input_shape)),)


@dataclass(frozen=True)
class Embedding(Layer):
    """Token ids -> vectors; embeddings (input_dim, output_dim). Id 0 is an ordinary row."""

    input_dim: int
    output_dim: int
    kind: ClassVar[str] = "embedding"

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"embeddings": (self.input_dim, self.output_dim)}

    def output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.output_dim)

    def initial_parameters(self, input_shape, rng):
        # Keras' default: U(±0.05).
        shape = self.parameter_shapes(input_shape)["embeddings"]
        return {"embeddings": rng.uniform(-0.05, 0.05, size=shape).astype(np.float32)}


@dataclass(frozen=True)
class LSTM(Layer):
    """An LSTM over the sequence, returning the last hidden state.

    Gates in the order input, forget, cell candidate, output (Keras' i, f, c, o — torch's
    i, f, g, o is the same order); kernel (inputs, 4·units), recurrent_kernel
    (units, 4·units), one bias (4·units). tanh and a logistic sigmoid, as in both defaults.
    """

    units: int
    kind: ClassVar[str] = "lstm"

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        gates = 4 * self.units
        return {"kernel": (input_shape[-1], gates), "recurrent_kernel": (self.units, gates),
                "bias": (gates,)}

    def output_shape(self, input_shape: Shape) -> Shape:
        return (self.units,)

    def initial_parameters(self, input_shape, rng):
        shapes = self.parameter_shapes(input_shape)
        bias = np.zeros(shapes["bias"], dtype=np.float32)
        bias[self.units:2 * self.units] = 1.0  # Keras' unit_forget_bias: remember at first
        return {"kernel": glorot_uniform(rng, shapes["kernel"]),
                "recurrent_kernel": orthogonal(rng, shapes["recurrent_kernel"]),
                "bias": bias}


@dataclass(frozen=True)
class Dropout(Layer):
    """Inverted dropout in training mode; each framework draws its own masks."""

    rate: float
    kind: ClassVar[str] = "dropout"
