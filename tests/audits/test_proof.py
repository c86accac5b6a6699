"""The twin proof's arithmetic layers: they pass on every shipped network, and they have teeth.

Each mutation below is a real difference in settings injected into one twin (the other
framework of the pair, or the reference where the difference only exists there). The proof
must fail on it, and the test names the stage and layer that caught it: a proof that only
ever says "identical" would be worthless.
"""

import dataclasses

import numpy as np
import pytest

from twinaudit.audits.proof import EXACT_TOLERANCE, FLOOR_MULTIPLE, STAGES, prove, summarise
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import MLPNetwork
from twinaudit.vocabulary import FRAMEWORKS

REFERENCE, OTHER = FRAMEWORKS[0], FRAMEWORKS[1]
PAIR = (REFERENCE, OTHER)
SCHEDULE = Schedule(batch_size=32, learning_rate=1e-3)


def data(n_rows: int = 200, n_features: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def proof_of(network, *, build=twin_class, weights=None, schedule=SCHEDULE):
    X, y = data(n_features=network.input_shape[0])
    result = summarise([prove(network, schedule, 0, X_test=X[:50], train=(X, y, weights),
                              frameworks=PAIR, build=build)])
    return result


def with_other(mutant):
    """The registry's twin classes, the other framework's replaced by ``mutant``."""
    return lambda framework: mutant if framework == OTHER else twin_class(framework)


# -- no false alarms -----------------------------------------------------------------------

@pytest.mark.slow
def test_the_proof_passes_on_every_shipped_network(case):
    name, network, dataset = case
    row = prove(network.without_dropout(), Schedule(batch_size=64), 1, X_test=dataset.test.X,
                train=(dataset.train.X, dataset.train.y, None), frameworks=PAIR)
    result = summarise([row])
    assert result["passed"], result["text"]
    for stage in STAGES:
        assert row["exact"][stage]["max"] <= EXACT_TOLERANCE
        assert row["float32"][stage]["max_ratio"] <= FLOOR_MULTIPLE
    # float64 is the sharper instrument by far: it agrees ~1e-12 or better where float32's
    # own rounding is ~1e-7.
    assert row["exact"]["one_step"]["max"] < 1e-11


def test_the_proof_passes_with_row_weights_and_l2():
    network = MLPNetwork(n_inputs=6, hidden=(8, 8), l2=0.01)
    weights = np.random.default_rng(2).uniform(0.2, 3.0, 200).astype(np.float32)
    assert proof_of(network, weights=weights)["passed"]


# -- teeth: each difference in settings fails the proof, at the stage that shows it --------

def caught(result) -> tuple[str, str] | None:
    return None if result["passed"] else (result["caught_by"]["layer"],
                                          result["caught_by"]["stage"])


def test_keras_own_epsilon_placement_is_caught_at_one_step(monkeypatch):
    import keras

    from twinaudit.frameworks.keras import twin as keras_twin

    # Keras' Adam divides by sqrt(v) + ε before the bias correction; ours follows torch.
    monkeypatch.setattr(keras_twin, "TorchRuleAdam", keras.optimizers.Adam)
    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,)))
    assert caught(result) == ("exact", "one_step"), result["text"]


def test_a_square_kernel_loaded_transposed_is_caught_at_step_0():
    class Transposed(twin_class(OTHER)):
        def set_weights(self, weights):
            super().set_weights({**weights, "dense_1.kernel": weights["dense_1.kernel"].T})

    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8, 8)), build=with_other(Transposed))
    assert caught(result) == ("exact", "outputs"), result["text"]


@pytest.mark.slow
def test_a_bias_dropped_from_training_is_caught_at_the_gradients():
    class NoBias(twin_class(REFERENCE)):
        def _build(self, weights):
            super()._build(weights)
            self._modules["dense_0"].bias.requires_grad_(False)

    # Initial biases are zero, so the outputs agree; the bias's gradient does not.
    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,)),
                      build=lambda fw: NoBias if fw == REFERENCE else twin_class(fw))
    assert caught(result) == ("exact", "gradients"), result["text"]


@pytest.mark.slow
def test_a_batch_shifted_by_one_row_is_caught_at_one_step():
    class Shifted(twin_class(OTHER)):
        def train_step(self, X, y, batch_weight=None):
            # The window one row on: the batch's first row out, one more row at its end.
            super().train_step(np.roll(X, -1, axis=0)[:-1], np.roll(y, -1)[:-1],
                               None if batch_weight is None else batch_weight[:-1])

    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,)), build=with_other(Shifted))
    assert caught(result) == ("exact", "one_step"), result["text"]


def test_a_weighted_loss_without_rescaled_weights_is_caught_at_the_gradients():
    class Unscaled(twin_class(OTHER)):
        # sum(w·l) / n with the raw weights (here averaging 2.5), not sum(w·l) / sum(w).
        def train_step(self, X, y, batch_weight=None):
            super().train_step(X, y, batch_weight * 2.5)

        def _loss_gradients(self, X, y, batch_weight):
            return super()._loss_gradients(X, y, batch_weight * 2.5)

    weights = np.random.default_rng(2).uniform(0.2, 3.0, 200).astype(np.float32)
    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,)), build=with_other(Unscaled),
                      weights=weights)
    assert caught(result) == ("exact", "gradients"), result["text"]


@pytest.mark.slow
def test_an_l2_term_on_one_side_only_is_caught_at_the_gradients():
    class NoL2(twin_class(OTHER)):
        def initialize(self, weights=None):
            self.network = dataclasses.replace(self.network, l2=0.0)
            return super().initialize(weights)

    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,), l2=0.01), build=with_other(NoL2))
    assert caught(result) == ("exact", "gradients"), result["text"]


@pytest.mark.slow
def test_the_lstm_second_bias_trained_is_caught(sentiment):
    _, dataset, network, _ = sentiment

    class BothBiases(twin_class(REFERENCE)):
        def _build(self, weights):
            super()._build(weights)
            bias_hh = self._modules["lstm_0"].bias_hh_l0.requires_grad_(True)
            self.optimizer_.add_param_group({"params": [bias_hh]})

    row = prove(network, Schedule(batch_size=32), 0, X_test=dataset.test.X,
                train=(dataset.train.X, dataset.train.y, None), frameworks=PAIR,
                build=lambda fw: BothBiases if fw == REFERENCE else twin_class(fw))
    result = summarise([row])
    # b_ih and b_hh each get the gradient Keras' one bias gets: the sum moves twice as far.
    assert caught(result) == ("exact", "gradients"), result["text"]


def test_a_learning_rate_off_by_1e_4_relative_is_caught_in_float64():
    class Faster(twin_class(OTHER)):
        def _build(self, weights):
            self.schedule = dataclasses.replace(self.schedule, learning_rate=1e-3 * (1 + 1e-4))
            super()._build(weights)

    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,)), build=with_other(Faster))
    assert caught(result) == ("exact", "one_step"), result["text"]
    # A difference float32 cannot resolve: 1e-4 of an update of 1e-3 is 1e-7 of the weights.
    assert result["exact"]["one_step"]["max"] == pytest.approx(1e-4, rel=0.05)


@pytest.mark.slow
def test_dropout_masks_drawn_per_framework_are_caught_at_the_gradients():
    # The audit runs the proof without dropout; left on, each framework draws its own masks.
    result = proof_of(MLPNetwork(n_inputs=6, hidden=(16,), dropout=0.5))
    assert caught(result) == ("exact", "gradients"), result["text"]


@pytest.mark.slow
def test_a_float32_only_fault_is_caught_by_the_rounding_floor():
    class HalfInputs(twin_class(OTHER)):
        # In float32 only, inputs pass through float16: invisible to the float64 layer.
        def train_step(self, X, y, batch_weight=None):
            if self.precision == "float32":
                X = X.astype(np.float16).astype(np.float32)
            super().train_step(X, y, batch_weight)

    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,)), build=with_other(HalfInputs))
    assert all(stage["passed"] for stage in result["exact"].values())
    assert caught(result)[0] == "float32", result["text"]


def test_a_tensor_only_one_twin_has_fails_the_proof():
    class Extra(twin_class(OTHER)):
        def get_weights(self):
            return {**super().get_weights(), "ghost.bias": np.zeros(2, np.float32)}

    result = proof_of(MLPNetwork(n_inputs=6, hidden=(8,)), build=with_other(Extra))
    assert caught(result) == ("exact", "one_step"), result["text"]
    assert "ghost.bias" in result["text"]
