"""Bias mitigation: Kamiran–Calders reweighing (pre-processing) and fairlearn's
ThresholdOptimizer (post-processing on scores).

Both work on plain arrays and a data frame of sensitive features, never on a model, so the
same weight vector, or the same post-processing, applies identically to both twins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from twinaudit.fairness.audit import (
    FairnessInputError,
    encode_groups,
    validate_binary,
    validate_scores,
    validate_sensitive_features,
    validate_weights,
)

#: fairlearn's ThresholdOptimizer constraints (:data:`twinaudit.vocabulary.CONSTRAINTS`).
Constraint = Literal["demographic_parity", "equalized_odds"]
#: The one group that the groups under ``min_group_size`` rows are merged into.
POOLED = "small groups, pooled"


def mitigation_groups(fit_frame: pd.DataFrame, columns: Sequence[str], min_group_size: int,
                      *others: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray], list[str]]:
    """Group labels for a mitigation: groups with under ``min_group_size`` rows in the split
    the mitigation is fitted on (or none) are merged into one :data:`POOLED` group.

    A weight or a threshold fitted on a handful of rows is noise, and a group of two rows of
    one label cannot be fitted at all; pooled, those rows are still mitigated, together.

    Returns
    -------
    (labels of ``fit_frame``'s rows, labels of each frame in ``others``, the pooled groups)
    """
    fit = _group_labels(fit_frame, columns, len(fit_frame))
    rest = [_group_labels(frame, columns, len(frame)) for frame in others]
    names, sizes = np.unique(fit, return_counts=True)
    large = set(names[sizes >= min_group_size].tolist())
    seen = set(names.tolist())
    pooled = sorted(name for name in {*seen, *(n for labels in rest for n in labels)}
                    if name not in large)
    if not pooled:
        return fit, rest, []

    def pool(labels: np.ndarray) -> np.ndarray:
        return np.where(np.isin(labels, list(large)), labels, POOLED).astype(object)

    return pool(fit), [pool(labels) for labels in rest], pooled


def reweighing_weights(
    y_true: Any,
    sensitive_features: pd.DataFrame,
    columns: Sequence[str],
    *,
    sample_weight: Any = None,
    min_group_size: int = 1,
) -> np.ndarray:
    """Kamiran–Calders reweighing: weights that make the label independent of the group.

    Every row of group ``g`` and label ``y`` gets ``W(g, y) = P(g)·P(y) / P(g, y)``, times its
    existing weight. The probabilities are (weighted) shares of the training rows, so with the
    returned weights every group has the same weighted base rate, the overall one: the weighted
    statistical parity difference of the label is 0 for every pair of groups.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,)
        Training labels in {0, 1}.
    sensitive_features : pandas.DataFrame
        Sensitive columns, rows aligned by position with ``y_true``.
    columns : sequence of str
        The group definition: one column, or several for their intersection.
    sample_weight : array-like of shape (n_rows,), optional
        Existing instance weights: the probabilities are computed with them, and the result
        is multiplied into them.
    min_group_size : int, default 1
        Groups with fewer rows are reweighed as one pooled group (:func:`mitigation_groups`).

    Returns
    -------
    numpy.ndarray of shape (n_rows,)
        The new sample weights.

    Raises
    ------
    FairnessInputError
        If a (group, label) cell has no rows (or no weight): its weight would be infinite.
    """
    labels = validate_binary("y_true", y_true)
    frame = validate_sensitive_features(sensitive_features, len(labels))
    existing = validate_weights(sample_weight, len(labels))
    weights = np.ones(len(labels)) if existing is None else existing
    encode_groups(frame, list(columns))  # the checks of a grouping, with their messages
    group_labels = mitigation_groups(frame, columns, min_group_size)[0]
    names, codes = np.unique(group_labels.astype(str), return_inverse=True)

    # (n_groups, 2) weighted joint distribution of group and label.
    cell = codes.reshape(-1) * 2 + labels
    joint = np.bincount(cell, weights=weights, minlength=len(names) * 2)
    joint = joint.reshape(len(names), 2) / weights.sum()
    empty = np.argwhere(joint == 0)
    if len(empty):
        group, label = empty[0]
        raise FairnessInputError(
            f"reweighing on {'×'.join(columns)!r}: no training rows (or zero weight) with "
            f"{str(names[group])!r} and y_true={label}; every (group, label) cell needs rows"
        )
    factor = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True) / joint
    return weights * factor.reshape(-1)[cell]


def group_balance_weights(sensitive_features: pd.DataFrame, columns: Sequence[str], *,
                          min_group_size: int = 1) -> np.ndarray:
    """Weights that give every group the same total weight: ``n / (k · n_g)`` for a row of
    group ``g`` (``k`` groups, ``n`` rows).

    Reweighing without a label, for a network that has none (the autoencoder): a training
    loss averaged over rows is dominated by the largest group, so the smaller groups are
    reconstructed worse and flagged as anomalies more often. With these weights each group
    counts alike in the loss. The weights average 1. Groups under ``min_group_size`` rows are
    one pooled group (:func:`mitigation_groups`).
    """
    frame = validate_sensitive_features(sensitive_features, len(sensitive_features))
    encode_groups(frame, list(columns))  # the checks of a grouping, with their messages
    labels = mitigation_groups(frame, columns, min_group_size)[0]
    _, codes, sizes = np.unique(labels.astype(str), return_inverse=True, return_counts=True)
    return len(labels) / (len(sizes) * sizes[codes.reshape(-1)])


class _ScoreAsPrediction(BaseEstimator):
    """A fitted 'estimator' whose prediction is its single input column: the twin's score.

    It lets fairlearn's ThresholdOptimizer post-process scores computed elsewhere.
    """

    def fit(self, X: Any, y: Any = None) -> _ScoreAsPrediction:
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=float)[:, 0]

    def __sklearn_is_fitted__(self) -> bool:
        return True


def threshold_optimizer_predictions(
    validation_score: Any,
    validation_y_true: Any,
    validation_sensitive_features: pd.DataFrame,
    test_score: Any,
    test_sensitive_features: pd.DataFrame,
    *,
    columns: Sequence[str],
    constraints: Constraint = "demographic_parity",
    random_state: int = 0,
    min_group_size: int = 1,
) -> np.ndarray:
    """Group-specific (randomised) thresholds on scores, fitted on validation, applied to test.

    Wraps fairlearn's ``ThresholdOptimizer`` (``prefit=True``, ``predict_method="predict"``)
    around a stand-in estimator whose prediction is the score itself, so only the thresholds
    are learned, on the validation split, maximising accuracy under the constraint. Groups are
    those of ``columns`` (an intersection when several), labelled as in the fairness audit.
    The thresholds may randomise between two neighbouring values for a group; that draw is
    seeded by ``random_state``.

    Parameters
    ----------
    validation_score, validation_y_true : array-like of shape (n_validation,)
        Scores in [0, 1] and labels in {0, 1} of the validation split.
    validation_sensitive_features : pandas.DataFrame
        Sensitive columns of the validation split.
    test_score : array-like of shape (n_test,)
        Scores of the test split.
    test_sensitive_features : pandas.DataFrame
        Sensitive columns of the test split.
    columns : sequence of str
        The group definition.
    constraints : {"demographic_parity", "equalized_odds"}, default "demographic_parity"
        The fairness constraint.
    random_state : int, default 0
        Seed of the randomised thresholds.
    min_group_size : int, default 1
        Groups with fewer validation rows (test groups without any) share one threshold
        (:func:`mitigation_groups`).

    Returns
    -------
    numpy.ndarray of shape (n_test,)
        Post-processed test predictions in {0, 1}.

    Raises
    ------
    FairnessInputError
        For invalid scores, labels or sensitive columns, a test group unseen in validation,
        or an unknown constraint.
    """
    from fairlearn.postprocessing import ThresholdOptimizer  # heavy import, at the point of use

    if constraints not in ("demographic_parity", "equalized_odds"):
        raise FairnessInputError(
            f"constraints must be 'demographic_parity' or 'equalized_odds'; got {constraints!r}"
        )
    labels, validation_groups, test_groups = _threshold_groups(
        validation_y_true, validation_sensitive_features, test_sensitive_features, columns,
        min_group_size)
    scores = validate_scores(validation_score, len(labels))
    test_scores = np.asarray(test_score, dtype=float).reshape(-1)
    test_scores = validate_scores(test_scores, len(test_groups))
    optimizer = ThresholdOptimizer(
        estimator=_ScoreAsPrediction(), constraints=constraints, objective="accuracy_score",
        prefit=True, predict_method="predict",
    )
    optimizer.fit(scores[:, None], labels, sensitive_features=validation_groups)
    predictions = optimizer.predict(
        test_scores[:, None], sensitive_features=test_groups, random_state=random_state
    )
    return np.asarray(predictions, dtype=np.intp)


def check_thresholds_possible(validation_y_true: Any, validation_sensitive_features: Any,
                              test_sensitive_features: Any, columns: Sequence[str],
                              min_group_size: int = 1) -> None:
    """Raise :class:`FairnessInputError` when ThresholdOptimizer could not be fitted.

    It fits one threshold per validation group from both labels' scores, so a test group
    without validation rows, or a validation group whose rows all carry one label (fairlearn:
    "Degenerate labels"), could not be post-processed. The pipeline calls this before any
    training, so the run stops at once rather than after the twins trained.
    """
    _threshold_groups(validation_y_true, validation_sensitive_features,
                      test_sensitive_features, columns, min_group_size)


def _threshold_groups(validation_y_true: Any, validation_sensitive_features: Any,
                      test_sensitive_features: Any, columns: Sequence[str],
                      min_group_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validation labels and both splits' group labels, checked as ThresholdOptimizer needs."""
    labels = validate_binary("validation_y_true", validation_y_true)
    validation = validate_sensitive_features(validation_sensitive_features, len(labels))
    test = validate_sensitive_features(test_sensitive_features, len(test_sensitive_features))
    validation_groups, (test_groups,), pooled = mitigation_groups(validation, columns,
                                                                  min_group_size, test)
    if set(test_groups) - set(validation_groups):
        # Only the pooled group can be missing: every test group of its own was large.
        unseen = [group for group in pooled if group not in
                  set(_group_labels(validation, columns, len(validation)))]
        raise FairnessInputError(
            f"test group {unseen[0]!r} does not occur in the validation split (nor any "
            "small group to pool it with); ThresholdOptimizer has no threshold for it"
        )
    for group in sorted(set(validation_groups)):
        present = np.unique(labels[validation_groups == group])
        if len(present) < 2:
            raise FairnessInputError(
                f"validation group {group!r} has label {int(present[0])} only "
                f"({int((validation_groups == group).sum())} rows); ThresholdOptimizer needs "
                "both labels in every group")
    return labels, validation_groups, test_groups


def _group_labels(frame: Any, columns: Sequence[str], n_rows: int) -> np.ndarray:
    grouping = encode_groups(validate_sensitive_features(frame, n_rows), list(columns))
    return np.asarray(grouping.labels, dtype=object)[grouping.codes]
