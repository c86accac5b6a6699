"""The shared training loop: seeded batches, row weights, early stopping, validation figures."""

import numpy as np
import pytest

from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule, batch_order, batch_weights
from twinaudit.nets import MLPNetwork
from twinaudit.vocabulary import FRAMEWORKS

from helpers import network_case


def test_batch_order_covers_every_row_once_and_is_seeded_by_seed_and_epoch():
    batches = batch_order(3, 0, 10, 4)
    assert [len(rows) for rows in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))
    again = batch_order(3, 0, 10, 4)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    for other in (batch_order(4, 0, 10, 4), batch_order(3, 1, 10, 4)):
        assert not np.array_equal(np.concatenate(batches), np.concatenate(other))


def test_batch_weights_average_one_and_an_all_zero_batch_is_skipped():
    weights = batch_weights(np.array([1.0, 3.0, 0.0, 4.0], np.float32))
    # Scaled by n / sum = 4 / 8: the mean of w·l is then sum(w·l) / sum(w).
    np.testing.assert_allclose(weights, [0.5, 1.5, 0.0, 2.0])
    assert weights.dtype == np.float32
    assert batch_weights(np.zeros(3, np.float32)) is None


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_fit_is_deterministic_and_early_stopping_restores_the_best_epoch(framework,
                                                                         small_dataset):
    data = small_dataset
    network = MLPNetwork(n_inputs=data.train.X.shape[1], hidden=(16,))
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


@pytest.mark.slow
def test_validation_loss_of_a_reconstruction_is_its_mean_error():
    _, network, dataset = network_case("autoencoder")
    twin = twin_class("torch")(network, Schedule(epochs=2, batch_size=64, early_stopping=False),
                               random_state=0)
    twin.fit(dataset.train.X, validation=(dataset.validation.X, None))
    last = twin.history_["epochs"][-1]
    assert last["validation_accuracy"] is None
    assert last["validation_loss"] == pytest.approx(
        twin.decision_function(dataset.validation.X).mean())
