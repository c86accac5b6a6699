"""Per-layer conformance: every layer type, built by each framework, gives the hand-worked
answer from hand-set weights, and round-trips its weights in the canonical layout.

One shared test runs against each framework (the Keras-3 convention); the layers are wrapped
in a one-layer network so the twins' own public API (``set_weights``, ``forward``) is tested.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from twinaudit.nets import Network
from twinaudit.nets.layers import LSTM, Conv2D, Dense, Embedding, Flatten, Layer, MaxPool2D
from twinaudit.train import Schedule
from twinaudit.twins import twin_class

FRAMEWORKS = ["torch", "keras"]


@dataclass(frozen=True)
class LayerStack(Network):
    """A network that is just the given layers (for testing them one at a time)."""

    shape: tuple[int, ...]
    stack: tuple[Layer, ...]
    dtype: str = "float32"
    kind: ClassVar[str] = "test"

    @property
    def input_shape(self):
        return self.shape

    @property
    def input_dtype(self):
        return self.dtype

    def layers(self):
        return list(self.stack)


def sigmoid(value):
    return 1.0 / (1.0 + np.exp(-value))


IMAGE_3x3 = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.float32)


def conv_case():
    # Two input channels (the image, and ones), two filters, kernel (kh, kw, in, out):
    # filter 0 reads channel 0 through [[1, 2], [0, -1]], filter 1 sums channel 1's 2x2 ones.
    kernel = np.zeros((2, 2, 2, 2), np.float32)
    kernel[:, :, 0, 0] = [[1, 2], [0, -1]]
    kernel[:, :, 1, 1] = 1
    image = np.stack([IMAGE_3x3, np.ones((3, 3), np.float32)], axis=-1)[None]  # (1, 3, 3, 2)
    # filter 0 at (i, j): x[i, j] + 2 x[i, j+1] − x[i+1, j+1] + 0.5
    #   (0,0): 1 + 4 − 5 + .5 = 0.5   (0,1): 2 + 6 − 6 + .5 = 2.5
    #   (1,0): 4 + 10 − 8 + .5 = 6.5  (1,1): 5 + 12 − 9 + .5 = 8.5
    # filter 1: 4 ones − 1 = 3 everywhere
    expected = np.stack([[[0.5, 2.5], [6.5, 8.5]], np.full((2, 2), 3.0)], axis=-1)[None]
    return (LayerStack((3, 3, 2), (Conv2D(2, 2),)),
            {"conv_0.kernel": kernel, "conv_0.bias": np.array([0.5, -1], np.float32)},
            image, expected)


def lstm_step(x, h, c, kernel, recurrent, bias):
    """One LSTM step of one unit, by the textbook formulas (gates i, f, g, o)."""
    z = x * kernel + h * recurrent + bias
    i, f, g, o = sigmoid(z[0]), sigmoid(z[1]), np.tanh(z[2]), sigmoid(z[3])
    c = f * c + i * g
    return o * np.tanh(c), c


def lstm_case():
    kernel = np.array([[1.0, 2.0, 0.5, -1.0]], np.float32)        # (inputs=1, 4 units)
    recurrent = np.array([[0.5, -0.5, 1.0, 0.25]], np.float32)    # (units=1, 4 units)
    bias = np.array([0.0, 0.0, 0.0, 0.5], np.float32)
    # Step 1 by hand, x = 1, h = c = 0: i = σ(1) = 0.731059, g = tanh(0.5) = 0.462117,
    # c = f·0 + i·g = 0.337835, o = σ(−1 + 0.5) = 0.377541, h = o·tanh(c) = 0.377541 ·
    # 0.325543 = 0.122906.
    h1, c1 = lstm_step(1.0, 0.0, 0.0, kernel[0], recurrent[0], bias)
    assert abs(h1 - 0.122906) < 1e-6
    # Step 2, x = −1, from (h1, c1): the recurrent kernel now matters.
    h2, _ = lstm_step(-1.0, h1, c1, kernel[0], recurrent[0], bias)
    network = LayerStack((2, 1), (LSTM(1),))
    weights = {"lstm_0.kernel": kernel, "lstm_0.recurrent_kernel": recurrent,
               "lstm_0.bias": bias}
    return network, weights, np.array([[[1.0], [-1.0]]], np.float32), np.array([[h2]])


CASES = {
    "dense": lambda: (
        LayerStack((2,), (Dense(2),)),
        {"dense_0.kernel": np.array([[1, 2], [3, 4]], np.float32),
         "dense_0.bias": np.array([0.5, -0.5], np.float32)},
        np.array([[1, 1], [2, 0]], np.float32),
        # [1, 1]: [1 + 3 + .5, 2 + 4 − .5];  [2, 0]: [2 + .5, 4 − .5]
        np.array([[4.5, 5.5], [2.5, 3.5]])),
    "conv": conv_case,
    "pool": lambda: (
        LayerStack((4, 4, 2), (MaxPool2D(2),)), {},
        np.stack([np.arange(16.0).reshape(4, 4), -np.arange(16.0).reshape(4, 4)],
                 axis=-1)[None].astype(np.float32),
        # Channel 0 (0..15): the bottom-right of each block; channel 1 (−0..−15): top-left.
        np.stack([[[5, 7], [13, 15]], [[0, -2], [-8, -10]]], axis=-1)[None]),
    # After a (1x1 identity) convolution, torch holds the image channels-first; flattening
    # must still give the canonical (height, width, channel) order: x.reshape(-1).
    "flatten": lambda: (
        LayerStack((2, 2, 2), (Conv2D(2, 1), Flatten())),
        {"conv_0.kernel": np.eye(2, dtype=np.float32).reshape(1, 1, 2, 2),
         "conv_0.bias": np.zeros(2, np.float32)},
        np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2),
        np.arange(8.0)[None]),
    "embedding": lambda: (
        LayerStack((3,), (Embedding(4, 2),), "int32"),
        {"embedding_0.embeddings": np.array([[0, 0], [1, 2], [3, 4], [5, 6]], np.float32)},
        np.array([[3, 0, 1]], np.int32),
        np.array([[[5, 6], [0, 0], [1, 2]]])),
    "lstm": lstm_case,
}


@pytest.mark.parametrize("layer", sorted(CASES))
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_layer_gives_the_hand_worked_output(framework, layer):
    network, weights, inputs, expected = CASES[layer]()
    twin = twin_class(framework)(network, Schedule()).initialize()
    twin.set_weights(weights)
    np.testing.assert_allclose(twin.forward(inputs), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("layer", sorted(CASES))
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_layer_weights_round_trip_in_the_canonical_layout(framework, layer):
    network, weights, _, _ = CASES[layer]()
    twin = twin_class(framework)(network, Schedule()).initialize()
    assert {name: value.shape for name, value in twin.get_weights().items()} == \
        network.parameter_shapes()
    twin.set_weights(weights)
    after = twin.get_weights()
    assert sorted(after) == sorted(weights)
    for name, value in weights.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)


def test_torch_lstm_keeps_its_second_bias_at_zero_through_training():
    network = LayerStack((3, 2), (LSTM(2), Dense(2)))
    twin = twin_class("torch")(network, Schedule(learning_rate=0.1)).initialize()
    rng = np.random.default_rng(0)
    for _ in range(3):
        twin.train_step(rng.normal(size=(4, 3, 2)).astype(np.float32), rng.integers(0, 2, 4))
    lstm = twin._modules["lstm_0"]
    assert not lstm.bias_hh_l0.requires_grad and not lstm.bias_hh_l0.any()
    assert lstm.bias_ih_l0.requires_grad
