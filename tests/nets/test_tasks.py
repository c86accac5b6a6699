"""Tasks: what a network's output means, worked by hand on a stand-in twin."""

from __future__ import annotations

import numpy as np
import pytest

from twinaudit.nets.tasks import CLASSIFICATION, RECONSTRUCTION, cross_entropy, reconstruction_error


class StandIn:
    """Just enough of a twin: fixed logits (or reconstructions) for given rows."""

    def __init__(self, output: np.ndarray, classes: int = 2):
        self.output = np.asarray(output, dtype=np.float32)
        self.classes_ = np.arange(classes)

    def decision_function(self, X):
        return self.output

    def predict_proba(self, X):
        shifted = np.exp(self.output - self.output.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.output.argmax(axis=1)


def test_cross_entropy_by_hand():
    logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    np.testing.assert_allclose(cross_entropy(logits, np.array([1, 0])),
                               [np.log(2.0), np.log(4.0 / 3.0)], rtol=1e-12)


def test_classification_figures_and_binary_prediction_columns():
    twin = StandIn([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    y = np.array([0, 0, 1])
    loss, accuracy = CLASSIFICATION.validation_figures(twin, None, y)
    assert accuracy == pytest.approx(2 / 3)
    assert loss == pytest.approx(cross_entropy(twin.output, y).mean())
    columns = CLASSIFICATION.prediction_columns(twin, None, y)
    np.testing.assert_allclose(columns["score"], [1 / (1 + np.e ** 2), 1 / (1 + np.e ** -1),
                                                  1 / (1 + np.e ** -3)], rtol=1e-6)
    assert columns["y_pred"].tolist() == [0, 1, 1] and columns["y_true"] is y
    assert CLASSIFICATION.summary(twin, None, y) == {"test_accuracy": pytest.approx(2 / 3)}
    assert CLASSIFICATION.outcome_note(2) is None


def test_multi_class_rows_become_hits_of_their_own_class():
    twin = StandIn([[3.0, 0.0, 0.0], [0.0, 0.0, 3.0]], classes=3)
    y = np.array([0, 1])
    columns = CLASSIFICATION.prediction_columns(twin, None, y)
    assert columns["y_true"].tolist() == [1, 1]
    assert columns["y_pred"].tolist() == [1, 0]          # right, then wrong
    assert columns["predicted_label"].tolist() == [0, 2]
    assert "recall" in CLASSIFICATION.outcome_note(3)


class Reconstructor:
    def __init__(self, reconstruction):
        self.reconstruction = np.asarray(reconstruction, dtype=np.float32)

    def decision_function(self, X):
        return reconstruction_error(self.reconstruction, X)


def test_reconstruction_scores_flags_and_threshold_by_hand():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]], np.float32)
    twin = Reconstructor(np.zeros_like(X))                     # errors: 0, 1, 2
    np.testing.assert_allclose(twin.decision_function(X), [0.0, 1.0, 2.0])
    assert RECONSTRUCTION.flag_threshold(twin, X, 0.5) == pytest.approx(1.0)
    columns = RECONSTRUCTION.prediction_columns(twin, X, np.array([0, 1, 1]), threshold=1.0)
    assert columns["y_pred"].tolist() == [0, 0, 1]             # strictly above the threshold
    assert RECONSTRUCTION.validation_figures(twin, X, None) == (pytest.approx(1.0), None)
    assert RECONSTRUCTION.summary(twin, X, None) == {"test_accuracy": None,
                                                      "test_reconstruction_error": 1.0}
    with pytest.raises(ValueError, match="threshold"):
        RECONSTRUCTION.prediction_columns(twin, X, np.zeros(3))


def test_tasks_say_what_they_are():
    assert (CLASSIFICATION.is_classifier, CLASSIFICATION.target_is_input) == (True, False)
    assert (RECONSTRUCTION.is_classifier, RECONSTRUCTION.target_is_input) == (False, True)
    assert str(CLASSIFICATION) == "classification" and repr(RECONSTRUCTION) == "reconstruction"
