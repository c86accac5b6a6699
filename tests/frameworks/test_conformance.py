"""The conformance suite: what every framework's twin must do, run against each framework in
the registry (``twinaudit.vocabulary.FRAMEWORKS``), so a framework added there is held to it,
and against the Keras twin on JAX, hosted from this process (``keras[jax]``; slow: JAX
compiles every function it runs).

Per layer type, the hand-worked output from hand-set weights and the weights' round trip in
the canonical layout (the layers are wrapped in a network that is just those layers, so the
twins' own public API — ``set_weights``, ``forward`` — is tested); each activation against
numpy's formula; Dropout as the identity at inference; the first Adam step and row weights in
``train_step``; the exact initial weights; input gradients; save and load.
"""

import importlib.util

import numpy as np
import pytest

from twinaudit.attribution.gradients import gradient_function
from twinaudit.frameworks import load_twin, twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import MLPNetwork, initial_weights
from twinaudit.nets.layers import LSTM, Conv2D, Dense, Dropout, Embedding, Flatten, MaxPool2D
from twinaudit.vocabulary import ACTIVATIONS, FRAMEWORKS, KERAS_BACKENDS

from helpers import (
    GRADIENT_SCHEDULE,
    LINEAR_NETWORK,
    LINEAR_WEIGHTS,
    LayerStack,
    assert_same_update,
    built_twin,
    gradient_like_update,
    log_odds,
)

#: Every framework, and Keras on each further backend whose package is installed.
CONFORMING = [*FRAMEWORKS, *(
    pytest.param(f"keras[{backend}]", marks=[pytest.mark.slow, pytest.mark.skipif(
        importlib.util.find_spec(backend) is None,
        reason=f"{backend} is not installed (pip install 'twinaudit[{KERAS_BACKENDS[backend]}]')")])
    for backend in KERAS_BACKENDS if backend != "tensorflow")]


def sigmoid(value):
    return 1.0 / (1.0 + np.exp(-value))


# -- each layer type, by hand -------------------------------------------------------------------

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
    # At inference Dropout is the identity: no unit dropped, none scaled by 1 / (1 − rate)
    # (inverted dropout scales in training only). Training mode would zero about half of
    # these inputs and double the rest.
    "dropout": lambda: (
        LayerStack((4,), (Dropout(0.5),)), {},
        np.array([[1, -2, 3, 0.5], [4, 5, -6, 7]], np.float32),
        np.array([[1, -2, 3, 0.5], [4, 5, -6, 7]])),
}


@pytest.mark.parametrize("layer", sorted(CASES))
@pytest.mark.parametrize("framework", CONFORMING)
def test_layer_gives_the_hand_worked_output(framework, layer):
    network, weights, inputs, expected = CASES[layer]()
    twin = twin_class(framework)(network, Schedule()).initialize()
    twin.set_weights(weights)
    np.testing.assert_allclose(twin.forward(inputs), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("layer", sorted(CASES))
@pytest.mark.parametrize("framework", CONFORMING)
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


# -- activations --------------------------------------------------------------------------------

#: numpy's formula of every activation a [network] may name.
ACTIVATION_FORMULAS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}

# A 2 -> 3 Dense layer whose pre-activations z = x · kernel + bias, worked out by hand, are of
# both signs and well away from 0 (so relu, tanh and sigmoid each give different numbers).
ACTIVATION_KERNEL = np.array([[1.0, -2.0, 0.5], [0.5, 1.0, -3.0]], np.float32)
ACTIVATION_BIAS = np.array([0.25, -0.5, 1.0], np.float32)
ACTIVATION_INPUTS = np.array([[1.0, 1.0], [-2.0, 0.5], [0.3, -0.7]], np.float32)
PRE_ACTIVATIONS = np.array([
    [1 + 0.5 + 0.25, -2 + 1 - 0.5, 0.5 - 3 + 1],         # [1.75, -1.5, -1.5]
    [-2 + 0.25 + 0.25, 4 + 0.5 - 0.5, -1 - 1.5 + 1],     # [-1.5, 4.0, -1.5]
    [0.3 - 0.35 + 0.25, -0.6 - 0.7 - 0.5, 0.15 + 2.1 + 1],  # [0.2, -1.8, 3.25]
])


def test_every_activation_of_the_vocabulary_has_its_formula_here():
    assert set(ACTIVATION_FORMULAS) == set(ACTIVATIONS)
    np.testing.assert_allclose(ACTIVATION_INPUTS @ ACTIVATION_KERNEL + ACTIVATION_BIAS,
                               PRE_ACTIVATIONS, atol=1e-6)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("framework", CONFORMING)
def test_dense_activation_is_numpys_formula(framework, activation):
    network = LayerStack((2,), (Dense(3, activation),))
    twin = built_twin(framework, network, {"dense_0.kernel": ACTIVATION_KERNEL,
                                           "dense_0.bias": ACTIVATION_BIAS})
    expected = ACTIVATION_FORMULAS[activation](PRE_ACTIVATIONS)
    np.testing.assert_allclose(twin.forward(ACTIVATION_INPUTS), expected, rtol=0, atol=1e-6)


# -- a hand-worked network ----------------------------------------------------------------------

# A 2 -> 2 -> 2 ReLU network whose answers are worked out by hand below.
HAND_NETWORK = MLPNetwork(n_inputs=2, hidden=(2,))
HAND_WEIGHTS = {
    "dense_0.kernel": np.array([[1.0, -1.0], [2.0, 0.5]], dtype=np.float32),
    "dense_0.bias": np.array([0.5, -0.5], dtype=np.float32),
    "dense_1.kernel": np.array([[1.0, 0.0], [-1.0, 2.0]], dtype=np.float32),
    "dense_1.bias": np.array([0.0, 0.25], dtype=np.float32),
}
HAND_INPUTS = np.array([[1, 1], [0, -1]], np.float32)
# x = [1, 1]: hidden = relu([1 + 2 + 0.5, -1 + 0.5 - 0.5]) = [3.5, 0]
#             logits = [3.5 * 1 + 0, 3.5 * 0 + 0 * 2 + 0.25] = [3.5, 0.25]
# x = [0, -1]: hidden = relu([-2 + 0.5, -0.5 - 0.5]) = [0, 0], logits = bias = [0, 0.25]
HAND_LOGITS = [[3.5, 0.25], [0.0, 0.25]]


def hand_twin(framework, schedule=None, network=HAND_NETWORK):
    twin = twin_class(framework)(network, schedule or Schedule()).initialize()
    twin.set_weights(HAND_WEIGHTS)
    return twin


@pytest.mark.parametrize("framework", CONFORMING)
def test_hand_set_weights_give_the_hand_worked_logits(framework):
    logits = hand_twin(framework).decision_function(HAND_INPUTS)
    np.testing.assert_allclose(logits, HAND_LOGITS, atol=1e-6)


@pytest.mark.parametrize("framework", CONFORMING)
def test_dropout_is_off_at_inference_and_on_in_training(framework, batch):
    # The hand network with Dropout(0.5) after its hidden layer (no parameters of its own, so
    # the same weights load) gives the hand-worked logits: with the dropout applied, hidden
    # unit 0 (3.5) would be dropped or doubled and the first logit 0 or 7, not 3.5.
    dropped = MLPNetwork(n_inputs=2, hidden=(2,), dropout=0.5)
    assert dropped.has_dropout and dropped.parameter_shapes() == HAND_NETWORK.parameter_shapes()
    np.testing.assert_allclose(hand_twin(framework, network=dropped).forward(HAND_INPUTS),
                               HAND_LOGITS, rtol=0, atol=1e-6)
    # A larger network: the same outputs as without its dropout layers, at inference...
    X, y = batch
    network = MLPNetwork(n_inputs=X.shape[1], hidden=(16, 16), dropout=0.5)
    twins = [twin_class(framework)(spec, GRADIENT_SCHEDULE, random_state=2).initialize()
             for spec in (network, network.without_dropout())]
    np.testing.assert_allclose(twins[0].forward(X), twins[1].forward(X), rtol=1e-6, atol=1e-6)
    # ...while a training step does drop units (the layer is there): the updates differ.
    updates = []
    for twin in twins:
        before = twin.get_weights()
        twin.train_step(X, y)
        updates.append({k: v - before[k] for k, v in twin.get_weights().items()})
    assert max(np.abs(updates[0][k] - updates[1][k]).max() for k in updates[0]) > 1e-3


@pytest.mark.parametrize("framework", CONFORMING)
def test_dropout_trains_but_inference_is_deterministic(framework, small_dataset):
    network = MLPNetwork(n_inputs=small_dataset.train.X.shape[1], hidden=(16,), dropout=0.5)
    twin = twin_class(framework)(network, Schedule(epochs=1), random_state=0).fit(
        small_dataset.train.X, small_dataset.train.y)
    first = twin.decision_function(small_dataset.test.X)
    np.testing.assert_array_equal(first, twin.decision_function(small_dataset.test.X))


# -- train_step ---------------------------------------------------------------------------------

@pytest.mark.parametrize("framework", CONFORMING)
def test_first_adam_step_matches_the_hand_worked_gradient(framework):
    # One row x = [1, 1] of class 1. With logits [3.5, 0.25], p0 = softmax_0 and the logit
    # gradient is [p0, -p0]. Backpropagating by hand through relu (only unit 0 active):
    p0 = 1.0 / (1.0 + np.exp(0.25 - 3.5))
    gradient = {
        "dense_1.bias": np.array([p0, -p0]),
        "dense_1.kernel": np.array([[3.5 * p0, -3.5 * p0], [0.0, 0.0]]),
        "dense_0.bias": np.array([p0, 0.0]),          # hidden delta [p0, -3 p0] masked by relu
        "dense_0.kernel": np.array([[p0, 0.0], [p0, 0.0]]),
    }
    schedule = Schedule(learning_rate=0.01)
    twin = hand_twin(framework, schedule)
    twin.train_step(np.array([[1.0, 1.0]], np.float32), np.array([1]), np.ones(1, np.float32))
    after = twin.get_weights()
    # Adam's first step: m̂ = g and v̂ = g², so the update is -lr · g / (|g| + eps).
    for name, g in gradient.items():
        expected = HAND_WEIGHTS[name] - schedule.learning_rate * g / (np.abs(g) + schedule.epsilon)
        np.testing.assert_allclose(after[name], expected, rtol=0, atol=2e-7, err_msg=name)


@pytest.mark.parametrize("framework", CONFORMING)
def test_a_row_of_weight_zero_is_the_same_as_dropping_it(framework, batch):
    X, y = batch
    weights = np.ones(12)
    weights[4] = 0
    keep = np.arange(12) != 4
    assert_same_update(gradient_like_update(framework, X, y, weights),
                       gradient_like_update(framework, X[keep], y[keep], np.ones(11)))


@pytest.mark.parametrize("framework", CONFORMING)
def test_an_integer_weight_is_the_same_as_repeating_the_row(framework, batch):
    X, y = batch
    weights = np.ones(12)
    weights[[2, 5]] = [3, 2]
    repeated = np.concatenate([np.arange(12), [2, 2, 5]])
    assert_same_update(gradient_like_update(framework, X, y, weights),
                       gradient_like_update(framework, X[repeated], y[repeated], np.ones(15)))


@pytest.mark.parametrize("framework", CONFORMING)
def test_weights_matter_and_their_scale_does_not(framework, batch):
    X, y = batch
    weights = np.linspace(0.2, 3.0, 12)
    update = gradient_like_update(framework, X, y, weights)
    # sum(w·l) / sum(w) is invariant to scaling every weight...
    assert_same_update(update, gradient_like_update(framework, X, y, 10 * weights))
    # ...but not to changing their shape (guards the two tests above against vacuity).
    unweighted = gradient_like_update(framework, X, y, np.ones(12))
    assert max(np.abs(update[k] - unweighted[k]).max() for k in update) > 1e-3


# -- initial weights ----------------------------------------------------------------------------

@pytest.mark.parametrize("framework", CONFORMING)
def test_initial_weights_are_loaded_exactly(framework):
    network = MLPNetwork(n_inputs=6, hidden=(4, 3))
    twin = twin_class(framework)(network, random_state=11).initialize()
    for name, value in initial_weights(network, 11).items():
        np.testing.assert_array_equal(twin.get_weights()[name], value)


@pytest.mark.parametrize("framework", CONFORMING)
def test_initial_weights_of_each_network_are_loaded_exactly(framework, case):
    _, network, _ = case
    twin = twin_class(framework)(network, random_state=11).initialize()
    expected = initial_weights(network, 11)
    assert list(twin.get_weights()) == list(expected) == list(network.parameter_shapes())
    for name, value in expected.items():
        np.testing.assert_array_equal(twin.get_weights()[name], value, err_msg=name)


# -- input gradients ----------------------------------------------------------------------------

@pytest.mark.parametrize("framework", CONFORMING)
def test_gradient_function_gives_the_log_odds_and_its_gradient(framework):
    twin = built_twin(framework, LINEAR_NETWORK, LINEAR_WEIGHTS)
    X = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    outputs, gradients = gradient_function(twin)(X)
    np.testing.assert_allclose(outputs, log_odds(twin, X), atol=1e-6)
    np.testing.assert_allclose(gradients, [[2.0, -3.0, 0.0]], atol=1e-6)


# -- save and load ------------------------------------------------------------------------------

@pytest.mark.parametrize("framework", CONFORMING)
def test_save_and_load_round_trip(framework, tmp_path, small_dataset):
    network = MLPNetwork(n_inputs=small_dataset.train.X.shape[1], hidden=(8,))
    twin = twin_class(framework)(network, Schedule(epochs=1), random_state=4).fit(
        small_dataset.train.X, small_dataset.train.y)
    path = twin.save(tmp_path / "twin")
    loaded = load_twin(path)
    assert loaded.framework == framework
    np.testing.assert_array_equal(loaded.decision_function(small_dataset.test.X),
                                  twin.decision_function(small_dataset.test.X))


@pytest.mark.slow
@pytest.mark.parametrize("framework", CONFORMING)
def test_fit_save_and_load_round_trip(framework, case, tmp_path):
    _, network, dataset = case
    twin = twin_class(framework)(network, Schedule(epochs=1, batch_size=64), random_state=4)
    twin.fit(dataset.train.X, dataset.train.y,
             validation=(dataset.validation.X, dataset.validation.y))
    loaded = load_twin(twin.save(tmp_path / "twin"))
    assert loaded.framework == framework and loaded.network == network
    np.testing.assert_array_equal(loaded.forward(dataset.test.X), twin.forward(dataset.test.X))
