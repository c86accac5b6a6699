"""Conformance tests every twin passes, run against each framework, and cross-framework parity."""

import numpy as np
import pytest
from sklearn.base import clone

from twinaudit.audits.parity import max_relative_difference
from twinaudit.nets import MLPSpec, initial_weights
from twinaudit.train import Schedule, batch_order, batch_weights
from twinaudit.twins import load_twin, twin_class

FRAMEWORKS = ["torch", "keras"]

# A 2 -> 2 -> 2 ReLU network whose answers are worked out by hand below.
HAND_NETWORK = MLPSpec(n_inputs=2, hidden=(2,))
HAND_WEIGHTS = {
    "dense_0.kernel": np.array([[1.0, -1.0], [2.0, 0.5]], dtype=np.float32),
    "dense_0.bias": np.array([0.5, -0.5], dtype=np.float32),
    "dense_1.kernel": np.array([[1.0, 0.0], [-1.0, 2.0]], dtype=np.float32),
    "dense_1.bias": np.array([0.0, 0.25], dtype=np.float32),
}


def hand_twin(framework, schedule=None):
    twin = twin_class(framework)(HAND_NETWORK, schedule or Schedule()).initialize()
    twin.set_weights(HAND_WEIGHTS)
    return twin


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_hand_set_weights_give_the_hand_worked_logits(framework):
    # x = [1, 1]: hidden = relu([1 + 2 + 0.5, -1 + 0.5 - 0.5]) = [3.5, 0]
    #             logits = [3.5 * 1 + 0, 3.5 * 0 + 0 * 2 + 0.25] = [3.5, 0.25]
    # x = [0, -1]: hidden = relu([-2 + 0.5, -0.5 - 0.5]) = [0, 0], logits = bias = [0, 0.25]
    logits = hand_twin(framework).decision_function(np.array([[1, 1], [0, -1]], np.float32))
    np.testing.assert_allclose(logits, [[3.5, 0.25], [0.0, 0.25]], atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
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


# With a huge epsilon (and a matching learning rate) Adam's first step is -g·1e3/(|g| + 1e3):
# the update follows the gradient itself, not just its sign, so weighting can be checked.
GRADIENT_SCHEDULE = Schedule(learning_rate=1e3, epsilon=1e3)


def gradient_like_update(framework, X, y, weights):
    network = MLPSpec(n_inputs=X.shape[1], hidden=(8,))
    twin = twin_class(framework)(network, GRADIENT_SCHEDULE, random_state=3).initialize()
    before = twin.get_weights()
    twin.train_step(X, y, batch_weights(np.asarray(weights, np.float32)))
    return {name: value - before[name] for name, value in twin.get_weights().items()}


def assert_same_update(first, second, rtol=1e-5):
    for name in first:
        np.testing.assert_allclose(first[name], second[name], rtol=rtol,
                                   atol=1e-6 * np.abs(first[name]).max(), err_msg=name)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    return rng.normal(size=(12, 5)).astype(np.float32), rng.integers(0, 2, 12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_row_of_weight_zero_is_the_same_as_dropping_it(framework, batch):
    X, y = batch
    weights = np.ones(12)
    weights[4] = 0
    keep = np.arange(12) != 4
    assert_same_update(gradient_like_update(framework, X, y, weights),
                       gradient_like_update(framework, X[keep], y[keep], np.ones(11)))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_integer_weight_is_the_same_as_repeating_the_row(framework, batch):
    X, y = batch
    weights = np.ones(12)
    weights[[2, 5]] = [3, 2]
    repeated = np.concatenate([np.arange(12), [2, 2, 5]])
    assert_same_update(gradient_like_update(framework, X, y, weights),
                       gradient_like_update(framework, X[repeated], y[repeated], np.ones(15)))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_weights_matter_and_their_scale_does_not(framework, batch):
    X, y = batch
    weights = np.linspace(0.2, 3.0, 12)
    update = gradient_like_update(framework, X, y, weights)
    # sum(w·l) / sum(w) is invariant to scaling every weight...
    assert_same_update(update, gradient_like_update(framework, X, y, 10 * weights))
    # ...but not to changing their shape (guards the two tests above against vacuity).
    unweighted = gradient_like_update(framework, X, y, np.ones(12))
    assert max(np.abs(update[k] - unweighted[k]).max() for k in update) > 1e-3


def test_weighted_updates_agree_across_frameworks(batch):
    X, y = batch
    weights = np.linspace(0.2, 3.0, 12)
    assert_same_update(gradient_like_update("torch", X, y, weights),
                       gradient_like_update("keras", X, y, weights), rtol=1e-4)


def test_step0_and_one_step_parity_on_adult(small_dataset):
    network = MLPSpec(n_inputs=small_dataset.train.X.shape[1], hidden=(64, 32))
    schedule = Schedule()
    X, y = small_dataset.train.X, small_dataset.train.y
    twins = [twin_class(fw)(network, schedule, random_state=5).initialize() for fw in FRAMEWORKS]
    logits = [twin.decision_function(small_dataset.test.X) for twin in twins]
    assert np.abs(logits[0] - logits[1]).max() <= 1e-5
    sample_weight = np.random.default_rng(1).uniform(0.2, 3.0, len(y)).astype(np.float32)
    batches = batch_order(5, 0, len(y), schedule.batch_size)
    for step, rows in enumerate(batches[:5]):
        for twin in twins:
            twin.train_step(X[rows], y[rows], batch_weights(sample_weight[rows]))
        difference = max(max_relative_difference(twins[0].get_weights(),
                                                  twins[1].get_weights()).values())
        # One step: within 1e-6; a few more steps stay within float32 accumulation.
        assert difference <= (1e-6 if step == 0 else 1e-5), (step, difference)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_initial_weights_are_loaded_exactly(framework):
    network = MLPSpec(n_inputs=6, hidden=(4, 3))
    twin = twin_class(framework)(network, random_state=11).initialize()
    for name, value in initial_weights(network, 11).items():
        np.testing.assert_array_equal(twin.get_weights()[name], value)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_fit_is_deterministic_and_early_stopping_restores_the_best_epoch(framework,
                                                                         small_dataset):
    data = small_dataset
    network = MLPSpec(n_inputs=data.train.X.shape[1], hidden=(16,))
    schedule = Schedule(epochs=6, batch_size=64, learning_rate=0.05, patience=1)
    fitted = [twin_class(framework)(network, schedule, random_state=2).fit(
        data.train.X, data.train.y, validation=(data.validation.X, data.validation.y))
        for _ in range(2)]
    for name, value in fitted[0].get_weights().items():
        np.testing.assert_array_equal(value, fitted[1].get_weights()[name])
    history = fitted[0].history_
    losses = [epoch["validation_loss"] for epoch in history["epochs"]]
    assert history["best_epoch"] == int(np.argmin(losses))
    best = history["snapshots"][history["best_epoch"]]
    for name, value in fitted[0].get_weights().items():
        np.testing.assert_array_equal(value, best[name])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_save_and_load_round_trip(framework, tmp_path, small_dataset):
    network = MLPSpec(n_inputs=small_dataset.train.X.shape[1], hidden=(8,))
    twin = twin_class(framework)(network, Schedule(epochs=1), random_state=4).fit(
        small_dataset.train.X, small_dataset.train.y)
    path = twin.save(tmp_path / "twin")
    loaded = load_twin(path)
    assert loaded.framework == framework
    np.testing.assert_array_equal(loaded.decision_function(small_dataset.test.X),
                                  twin.decision_function(small_dataset.test.X))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_twins_are_scikit_learn_classifiers(framework, small_dataset):
    network = MLPSpec(n_inputs=small_dataset.train.X.shape[1], hidden=(8,))
    twin = twin_class(framework)(network, Schedule(epochs=3, learning_rate=0.01), random_state=1)
    copy = clone(twin)
    assert copy.get_params()["random_state"] == 1 and copy is not twin
    copy.fit(small_dataset.train.X, small_dataset.train.y)
    probabilities = copy.predict_proba(small_dataset.test.X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-9)
    np.testing.assert_array_equal(copy.predict(small_dataset.test.X),
                                  probabilities.argmax(axis=1))
    # Better than always predicting the majority class (about 0.76 on Adult).
    assert 0.78 < copy.score(small_dataset.test.X, small_dataset.test.y) <= 1.0


def test_l2_regularisation_is_the_same_in_both_frameworks(batch):
    # Keras adds l2 · sum(kernel²) to the loss; the torch twin must add exactly that.
    X, y = batch
    network = MLPSpec(n_inputs=X.shape[1], hidden=(8,), l2=0.05)
    updates = {}
    for framework in FRAMEWORKS:
        twin = twin_class(framework)(network, GRADIENT_SCHEDULE, random_state=3).initialize()
        before = twin.get_weights()
        twin.train_step(X, y)
        updates[framework] = {k: v - before[k] for k, v in twin.get_weights().items()}
    assert_same_update(updates["torch"], updates["keras"], rtol=1e-4)
    plain = gradient_like_update("torch", X, y, np.ones(len(y)))
    # The penalty changes kernels' updates (and not biases'), so the check above has teeth.
    assert np.abs(updates["torch"]["dense_0.kernel"] - plain["dense_0.kernel"]).max() > 1e-3
    np.testing.assert_allclose(updates["torch"]["dense_0.bias"], plain["dense_0.bias"],
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_dropout_trains_but_inference_is_deterministic(framework, small_dataset):
    network = MLPSpec(n_inputs=small_dataset.train.X.shape[1], hidden=(16,), dropout=0.5)
    twin = twin_class(framework)(network, Schedule(epochs=1), random_state=0).fit(
        small_dataset.train.X, small_dataset.train.y)
    first = twin.decision_function(small_dataset.test.X)
    np.testing.assert_array_equal(first, twin.decision_function(small_dataset.test.X))
