"""The chaos envelope: one framework against itself, started one float32 ulp away."""

import numpy as np

from twinaudit.audits.chaos import chaos_envelope, divergence, one_ulp_away
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import MLPNetwork, initial_weights
from twinaudit.vocabulary import FRAMEWORKS

SCHEDULE = Schedule(epochs=3, batch_size=64)


def test_one_ulp_away_moves_every_entry_by_exactly_one_ulp():
    weights = initial_weights(MLPNetwork(n_inputs=5, hidden=(4,)), 0)
    moved = one_ulp_away(weights)
    for name, value in weights.items():
        assert moved[name].dtype == value.dtype and (moved[name] > value).all()
        # No float32 lies between: one step back down is the original, zeros included.
        np.testing.assert_array_equal(np.nextafter(moved[name], np.float32(-np.inf)), value)


def fit(framework, X, y, schedule=SCHEDULE):
    return twin_class(framework)(MLPNetwork(n_inputs=X.shape[1], hidden=(16,)), schedule,
                                 random_state=0).fit(X[100:], y[100:],
                                                     validation=(X[:100], y[:100]))


def test_identical_twins_drift_inside_the_envelope_and_a_changed_rate_does_not(small_dataset):
    X, y = small_dataset.train.X[:800], small_dataset.train.y[:800]
    reference = fit(FRAMEWORKS[0], X, y)
    envelope = {"train": (X[100:], y[100:], None), "validation": (X[:100], y[:100]),
                "X_test": small_dataset.test.X}
    twin = fit(FRAMEWORKS[1], X, y)
    inside = chaos_envelope(reference, twin, **envelope)
    assert inside["inside"] and inside["max_ratio"] <= inside["multiple"]
    assert len(inside["epochs"]) == 3 and inside["framework"] == FRAMEWORKS[0]
    # The self-drift is real (the ulp grows) but small against the weights.
    assert all(0 < row["self_parameter_distance"] < 1e-3 for row in inside["epochs"])
    # Teeth: a learning rate 1 % off is a difference in settings, far outside the envelope.
    changed = fit(FRAMEWORKS[1], X, y, Schedule(epochs=3, batch_size=64,
                                                learning_rate=1.01e-3))
    outside = chaos_envelope(reference, changed, **envelope)
    assert not outside["inside"] and outside["text"].startswith("outside the chaos envelope")


def test_divergence_of_a_twin_with_itself_is_zero(small_dataset):
    X, y = small_dataset.train.X[:400], small_dataset.train.y[:400]
    twin = fit(FRAMEWORKS[0], X, y)
    curve = divergence(twin, twin, small_dataset.test.X)
    assert [row["parameter_distance"] for row in curve] == [0.0] * 3
    assert all(row["max_abs_logit_diff"] == 0.0 for row in curve)
