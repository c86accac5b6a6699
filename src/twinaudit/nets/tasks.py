"""What a network is trained to do, as objects every other module asks instead of testing names.

A :class:`Task` knows its training target, its loss in numpy (for validation figures), what a
twin of it reports (accuracy, or a reconstruction error), and how its predictions become the
binary ``y_true`` / ``score`` / ``y_pred`` columns the fairness audit reads. Two tasks exist:

- :data:`CLASSIFICATION`: predict one of ``n_outputs`` classes, cross-entropy on logits;
- :data:`RECONSTRUCTION`: reproduce the input (the autoencoder), mean squared error per row;
  its per-row error is an anomaly score, flagged above a threshold set on validation rows.

Tasks take twins as duck-typed arguments (anything with ``decision_function``,
``predict_proba``, ``classes_``): this module imports no framework and no twin.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-row cross-entropy of integer labels given logits, computed stably in float64."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_normaliser = np.log(np.exp(shifted).sum(axis=1))
    return log_normaliser - shifted[np.arange(len(y)), y]


def reconstruction_error(reconstruction: np.ndarray, X: Any) -> np.ndarray:
    """Per-row mean squared error, in float64 so that tiny errors keep their digits."""
    difference = reconstruction.astype(np.float64) - np.asarray(X, dtype=np.float64)
    return np.square(difference).reshape(len(difference), -1).mean(axis=1)


class Task(ABC):
    """What a network's output means. Subclasses are singletons: compare with ``is``.

    Attributes
    ----------
    name : str
        ``"classification"`` or ``"reconstruction"`` (recorded in results).
    is_classifier : bool
        The twin predicts classes: it has ``classes_``, ``predict`` and ``predict_proba``.
    target_is_input : bool
        The training target is the input itself (the framework's loss compares the output
        with ``X``, not with ``y``).
    """

    name: str
    is_classifier: bool
    target_is_input: bool

    def __repr__(self) -> str:
        return self.name

    __str__ = __repr__

    @abstractmethod
    def validation_figures(self, twin: Any, X: np.ndarray,
                           y: np.ndarray | None) -> tuple[float, float | None]:
        """Mean loss and accuracy on held-out rows (accuracy None where it has no meaning)."""

    @abstractmethod
    def summary(self, twin: Any, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        """The twin's headline figures on the test split, for results.json."""

    @abstractmethod
    def prediction_columns(self, twin: Any, X: np.ndarray, y: np.ndarray, *,
                           threshold: float | None = None) -> dict[str, Any]:
        """``y_true``, ``score`` and ``y_pred`` (and task-specific extras) for each row."""

    @abstractmethod
    def outcome_note(self, n_classes: int) -> str | None:
        """What the fairness audit's binary outcome means when it is not a binary label."""


class Classification(Task):
    """Predict one of the network's output classes; cross-entropy on logits."""

    name = "classification"
    is_classifier = True
    target_is_input = False

    def validation_figures(self, twin: Any, X: np.ndarray,
                           y: np.ndarray | None) -> tuple[float, float | None]:
        # Labels come with every classification validation split (the schedule passes (X, y)).
        assert y is not None, "a classification task validates on labels"
        logits = twin.decision_function(X)
        return (float(cross_entropy(logits, y).mean()),
                float((logits.argmax(axis=1) == y).mean()))

    def summary(self, twin: Any, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        return {"test_accuracy": float((twin.predict(X) == y).mean())}

    def prediction_columns(self, twin: Any, X: np.ndarray, y: np.ndarray, *,
                           threshold: float | None = None) -> dict[str, Any]:
        """Binary: the label, P(label 1), the prediction at ``threshold`` (default 0.5,
        ``[data] threshold``).

        More classes (digits): every row's ``y_true`` is 1 and ``y_pred`` says whether the
        twin predicted the row's class, so a group's selection rate is its recall (accuracy
        within the class); ``score`` is the probability given to the true class, and
        ``label`` / ``predicted_label`` keep the classes themselves.
        """
        if len(twin.classes_) == 2:
            score = twin.predict_proba(X)[:, 1]
            cut = 0.5 if threshold is None else threshold
            return {"y_true": y, "score": score, "y_pred": (score >= cut).astype(np.int64)}
        probabilities = twin.predict_proba(X)
        predicted = probabilities.argmax(axis=1)
        return {"y_true": np.ones(len(y), np.int64),
                "score": probabilities[np.arange(len(y)), y],
                "y_pred": (predicted == y).astype(np.int64),
                "label": y, "predicted_label": predicted}

    def outcome_note(self, n_classes: int) -> str | None:
        if n_classes <= 2:
            return None
        return ("Multi-class: y_true is 1 for every row and y_pred is 1 when the twin predicted "
                "the row's class, so a group's selection_rate (= true_positive_rate = accuracy) "
                "is its recall; disparities compare recall across groups. Rates that need "
                "negatives (false positive rate) are undefined.")


class Reconstruction(Task):
    """Reproduce the input; the per-row reconstruction error is an anomaly score.

    A row is flagged when its error exceeds a threshold set on the validation split: the
    ``flag_quantile`` quantile of the validation errors (0.95: about 5% of ordinary rows
    flagged). Each twin gets its own threshold, from its own errors; the fairness audit then
    compares flag rates across groups (``selection_rate`` is the flag rate).
    """

    name = "reconstruction"
    is_classifier = False
    target_is_input = True

    def validation_figures(self, twin: Any, X: np.ndarray,
                           y: np.ndarray | None) -> tuple[float, float | None]:
        return float(twin.decision_function(X).mean()), None

    def summary(self, twin: Any, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        # A reconstruction has no accuracy: null, and its test error beside it.
        return {"test_accuracy": None,
                "test_reconstruction_error": float(twin.decision_function(X).mean())}

    def flag_threshold(self, twin: Any, X_validation: np.ndarray, quantile: float) -> float:
        """The ``quantile`` of the twin's reconstruction errors on the validation rows."""
        return float(np.quantile(twin.decision_function(X_validation), quantile))

    def prediction_columns(self, twin: Any, X: np.ndarray, y: np.ndarray, *,
                           threshold: float | None = None) -> dict[str, Any]:
        """``score`` is the reconstruction error, ``y_pred`` the anomaly flag at the twin's
        validation ``threshold``, ``y_true`` the data set's label (so a group's true/false
        positive rates are flag rates within each label)."""
        if threshold is None:
            raise ValueError("a reconstruction twin's predictions need its flag threshold")
        errors = twin.decision_function(X)
        return {"y_true": y, "score": errors, "y_pred": (errors > threshold).astype(np.int64)}

    def outcome_note(self, n_classes: int) -> str | None:
        return ("y_pred is the anomaly flag (reconstruction error above the validation "
                "threshold): selection_rate is the flag rate; y_true is the data set's label, "
                "so true/false positive rates are flag rates within each label; accuracy and "
                "precision have no meaning here.")


CLASSIFICATION = Classification()
RECONSTRUCTION = Reconstruction()
