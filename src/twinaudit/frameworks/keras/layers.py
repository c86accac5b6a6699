"""Framework-neutral layers as Keras layers.

The canonical layout *is* Keras' layout, so no conversion lives here: each parameterised
layer is named by its canonical name (``dense_0``, ``conv_1``...) and its variables keep
Keras' own names (``kernel``, ``recurrent_kernel``, ``bias``, ``embeddings``).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from twinaudit.frameworks.keras.backends import backend_module
from twinaudit.nets import Network
from twinaudit.nets.layers import LSTM, Conv2D, Dense, Dropout, Embedding, Flatten, MaxPool2D


@keras.saving.register_keras_serializable(package="twinaudit")
class ExactL2(keras.regularizers.L2):
    """Keras' L2 penalty with its coefficient in the weights' own dtype.

    Keras' L2 multiplies by ``ops.cast(l2, x.dtype)``, which goes through a float32 tensor:
    in float64, 0.01 would become 0.0099999998 and the twins' gradients would differ by
    2e-8 of the penalty. In float32 the two are the same number.
    """

    def __call__(self, x):
        return ops.convert_to_tensor(self.l2, dtype=x.dtype) * ops.sum(ops.square(x))


def build_layers(network: Network, *, l2: float = 0.0, dtype: str = "float32",
                 input_dtype: str | None = None) -> list:
    """``keras.Input`` followed by one Keras layer per framework-neutral layer, every one
    computing in ``dtype``."""
    regularizer = ExactL2(l2) if l2 > 0 else None
    activation = backend_module().activation  # the backend's own where Keras' loses float64
    layers: list = [keras.Input(network.input_shape, dtype=input_dtype or network.input_dtype)]
    for named in network.named_layers():
        layer = named.layer
        if isinstance(layer, Dense):
            layers.append(keras.layers.Dense(layer.units, activation=activation(layer.activation),
                                             kernel_regularizer=regularizer, name=named.name,
                                             dtype=dtype))
        elif isinstance(layer, Conv2D):
            layers.append(keras.layers.Conv2D(layer.filters, layer.kernel_size,
                                              activation=activation(layer.activation),
                                              kernel_regularizer=regularizer, name=named.name,
                                              dtype=dtype))
        elif isinstance(layer, MaxPool2D):
            layers.append(keras.layers.MaxPooling2D(layer.pool_size, dtype=dtype))
        elif isinstance(layer, Flatten):
            layers.append(keras.layers.Flatten(dtype=dtype))
        elif isinstance(layer, Embedding):
            layers.append(keras.layers.Embedding(layer.input_dim, layer.output_dim,
                                                 name=named.name, dtype=dtype))
        elif isinstance(layer, LSTM):
            # Keras 3's defaults are torch's: tanh, logistic sigmoid gates.
            layers.append(keras.layers.LSTM(layer.units, activation=activation("tanh"),
                                            name=named.name, dtype=dtype))
        elif isinstance(layer, Dropout):
            layers.append(keras.layers.Dropout(layer.rate, dtype=dtype))
        else:  # pragma: no cover - every layer type is listed above
            raise TypeError(f"no Keras layer for {layer!r}")
    return layers


def parameterised_layers(model: keras.Model, network: Network) -> dict:
    """The model's layers that hold parameters, by canonical name."""
    names = {named.name for named in network.named_layers() if named.parameter_shapes()}
    return {layer.name: layer for layer in model.layers if layer.name in names}


def get_parameters(layers: dict) -> dict[str, np.ndarray]:
    return {f"{name}.{variable.name}": ops.convert_to_numpy(variable).copy()
            for name, layer in layers.items() for variable in layer.weights}


def set_parameters(layers: dict, weights: dict[str, np.ndarray]) -> None:
    for name, layer in layers.items():
        for variable in layer.weights:
            variable.assign(np.asarray(weights[f"{name}.{variable.name}"],
                                       dtype=variable.dtype))
