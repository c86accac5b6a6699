"""Group fairness audit of binary predictions, with group-stratified bootstrap intervals.

The audit takes predictions, never a model: ``y_true``, ``y_pred``, ``y_score`` and a data
frame of sensitive features, and returns plain JSON-ready data (dicts, lists, str, int, float,
bool and ``None``; NaN becomes ``None``).

Conventions
-----------
* A *group set* is a list of sensitive columns; with two or more columns its groups are the
  intersections. Its name, and the label of each of its groups, join the parts with
  :data:`INTERSECTION_SEPARATOR` ("×"): group set ``"sex×race"``, group ``"Female×Black"``.
  Each group also carries its ``values`` per column, which never need splitting.
* Values of a sensitive column are compared as text (``str(value)``); missing values form
  their own group, labelled :data:`MISSING_LABEL`.
* Disparities follow fairlearn (``between_groups``): a *difference* is the largest minus the
  smallest group value, a *ratio* the smallest over the largest; equalized odds takes the
  worse of the TPR and FPR components. ``equalized_odds_*`` and ``equal_opportunity_*`` equal
  fairlearn's values: a group where a rate is undefined (a TPR in a group without positives)
  counts as 0, as fairlearn's ``true_positive_rate`` returns 0 there. The ``*_defined``
  variants leave such groups out instead.
* Groups with fewer than ``min_group_size`` rows are shown with their metrics but left out of
  every disparity (the group set lists them in ``excluded_groups``): a 5-row group's rate is
  mostly noise, and the max − min spread would chase it.
* AIF360's disparate impact is ``selection_rate(unprivileged) / selection_rate(privileged)``
  and its statistical parity difference ``selection_rate(unprivileged) −
  selection_rate(privileged)``. With several unprivileged groups, the one with the lowest
  selection rate is reported (within every resample, too). The four-fifths rule is the EEOC
  one: violated when some group's selection rate is under 0.8 × the highest group's.
* ``favourable`` is the value of ``y`` that is good for the person (Adult: income > 50K, 1).
  The selection rate is the share *predicted* favourable; the error rates (TPR, FPR, FNR,
  precision) and the base rate stay defined on label 1. The ``worst_group`` of a disparity
  is the group with the lowest value of the rate that drives it (``metric``), the
  ``reference_group`` the highest, or the privileged group for disparate impact and
  statistical parity; for the error-rate disparities read "lowest" as a direction, not a
  judgement (a low FPR is good).
* Intervals: binomial (Wilson or Clopper–Pearson) for the group rates, BCa bootstrap for the
  rest; ``interval_methods`` names the method of every figure
  (:mod:`twinaudit.fairness.intervals`). Every disparity carries the p-value of a test that
  the groups' driving rates are equal (:func:`twinaudit.fairness.multiplicity
  .homogeneity_p_value`); :func:`twinaudit.fairness.multiplicity.flag_run` adjusts them for
  the run's number of comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, overload

import numpy as np
import pandas as pd

from twinaudit.audits.seed_noise import compare_frameworks
from twinaudit.errors import TwinauditError
from twinaudit.fairness.counts import (
    GROUP_METRICS,
    N_CALIBRATION_BINS,
    N_HISTOGRAM_BINS,
    RATE_METRICS,
    SMALL_GROUP_ROWS,
    CellSums,
    RandomState,
    group_cell_sums,
    group_metrics,
    group_roc_auc,
    group_score_histogram,
    leave_one_out,
    rate_counts,
    stratified_bootstrap,
)
from twinaudit.fairness.intervals import BCA, RATE_METHODS, bca_interval
from twinaudit.fairness.intervals import rate_interval as binomial_interval
from twinaudit.fairness.multiplicity import homogeneity_p_value
from twinaudit.spec.sections import EQUIVALENCE_MARGINS

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

INTERSECTION_SEPARATOR = "×"
MISSING_LABEL = "<NA>"
#: The EEOC rule: adverse impact when a selection rate is under 4/5 of the highest.
FOUR_FIFTHS = 0.8
SCHEMA = "twinaudit.fairness/2"
#: The numeric disparities, each reported with value, interval and groups.
DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equalized_odds_difference_defined",
    "equalized_odds_ratio_defined",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equal_opportunity_difference_defined",
    "equal_opportunity_ratio_defined",
    "predictive_parity_difference",
    "disparate_impact",
    "statistical_parity_difference",
)


class FairnessInputError(TwinauditError, ValueError):
    """Input a fairness audit or a mitigation cannot use; the message is one line."""


@dataclass(frozen=True)
class Grouping:
    """The groups of one group set.

    Attributes
    ----------
    columns : tuple of str
        The sensitive columns whose intersection defines the groups.
    codes : numpy.ndarray
        Group index of every row, in ``range(len(labels))``.
    labels : tuple of str
        Group labels, sorted by the columns' sorted values.
    values : tuple of dict
        For each group, its value per column.
    """

    columns: tuple[str, ...]
    codes: np.ndarray
    labels: tuple[str, ...]
    values: tuple[dict[str, str], ...]

    @property
    def name(self) -> str:
        """The group set's name, e.g. ``"sex×race"``."""
        return INTERSECTION_SEPARATOR.join(self.columns)

    @property
    def n_groups(self) -> int:
        return len(self.labels)


# ---------------------------------------------------------------------------------------------
# Input validation and grouping


def encode_groups(sensitive_features: pd.DataFrame, columns: Sequence[str]) -> Grouping:
    """Group the rows by one sensitive column or the intersection of several.

    Parameters
    ----------
    sensitive_features : pandas.DataFrame
        One column per sensitive feature, one row per example.
    columns : sequence of str
        The columns defining the groups.

    Returns
    -------
    Grouping
        Only groups that occur are listed.

    Raises
    ------
    FairnessInputError
        If a column is missing, duplicated, or entirely missing values.
    """
    per_column = [_column_codes(sensitive_features, column) for column in columns]
    sizes = [len(labels) for _, labels in per_column]
    combined = np.ravel_multi_index([codes for codes, _ in per_column], sizes)
    present, codes = np.unique(combined, return_inverse=True)
    parts = np.unravel_index(present, sizes)
    values = tuple(
        {column: per_column[i][1][parts[i][group]] for i, column in enumerate(columns)}
        for group in range(len(present))
    )
    labels = tuple(INTERSECTION_SEPARATOR.join(value.values()) for value in values)
    return Grouping(tuple(columns), codes.reshape(-1), labels, values)


def _column_codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list[str]]:
    if column not in frame.columns:
        raise FairnessInputError(
            f"sensitive feature column {column!r} is missing; columns present: "
            f"{', '.join(map(str, frame.columns)) or 'none'}"
        )
    series = frame[column]
    if isinstance(series, pd.DataFrame):
        raise FairnessInputError(f"sensitive feature column {column!r} appears more than once")
    missing = series.isna().to_numpy()
    if missing.all():
        raise FairnessInputError(
            f"sensitive feature column {column!r} has only missing values (NaN); "
            "expected at least one group value"
        )
    text = np.where(missing, MISSING_LABEL, series.astype(str).to_numpy(dtype=object))
    labels, codes = np.unique(text.astype(str), return_inverse=True)
    return codes.reshape(-1), [str(label) for label in labels]


def validate_binary(name: str, values: Any, n_rows: int | None = None) -> np.ndarray:
    """Labels or predictions as an integer array, or an error naming ``name`` and bad values."""
    array = np.asarray(values).reshape(-1)
    if n_rows is not None:
        _check_length(name, array, n_rows)
    if array.dtype == bool:
        return array.astype(np.intp)
    try:
        valid = np.isin(array, [0, 1])
    except TypeError:
        valid = np.zeros(array.shape, bool)
    if not valid.all():
        bad = pd.unique(array[~valid])[:5].tolist()
        raise FairnessInputError(
            f"{name} must hold only the labels 0 and 1; found {', '.join(map(repr, bad))}"
        )
    return array.astype(np.intp)


def _check_length(name: str, array: np.ndarray, n_rows: int) -> None:
    if len(array) != n_rows:
        raise FairnessInputError(f"{name} has {len(array)} rows; expected {n_rows} like y_true")


@overload
def validate_scores(y_score: None, n_rows: int) -> None: ...
@overload
def validate_scores(y_score: ArrayLike, n_rows: int) -> np.ndarray: ...
def validate_scores(y_score: Any, n_rows: int) -> np.ndarray | None:
    """Scores as floats in [0, 1] (``None`` stays ``None``), or an error."""
    if y_score is None:
        return None
    scores = np.asarray(y_score, dtype=float).reshape(-1)
    _check_length("y_score", scores, n_rows)
    if not ((scores >= 0) & (scores <= 1)).all():  # NaN fails both comparisons
        raise FairnessInputError("y_score must be probabilities in [0, 1] without NaN")
    return scores


def validate_weights(sample_weight: Any, n_rows: int) -> np.ndarray | None:
    """Weights as finite non-negative floats with a positive sum (``None`` stays ``None``)."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=float).reshape(-1)
    _check_length("sample_weight", weights, n_rows)
    if not (weights >= 0).all() or not np.isfinite(weights).all():
        raise FairnessInputError("sample_weight must be finite and non-negative")
    if weights.sum() <= 0:
        raise FairnessInputError("sample_weight sums to 0; expected some positive weight")
    return weights


def validate_sensitive_features(sensitive_features: Any, n_rows: int) -> pd.DataFrame:
    """A data frame (a Series becomes one) of ``n_rows`` rows with a fresh positional index."""
    if isinstance(sensitive_features, pd.Series):
        sensitive_features = sensitive_features.to_frame()
    if not isinstance(sensitive_features, pd.DataFrame):
        raise FairnessInputError(
            "sensitive_features must be a pandas DataFrame with one column per sensitive "
            f"feature; got {type(sensitive_features).__name__}"
        )
    if len(sensitive_features) != n_rows:
        raise FairnessInputError(
            f"sensitive_features has {len(sensitive_features)} rows; expected {n_rows} like y_true"
        )
    return sensitive_features.reset_index(drop=True)


def _group_set_columns(group_sets: Any, frame: pd.DataFrame) -> list[tuple[str, ...]]:
    if isinstance(group_sets, str) or not isinstance(group_sets, Sequence) or not group_sets:
        raise FairnessInputError(
            "group_sets must be a non-empty list of column lists, e.g. [['sex'], ['sex', 'race']]"
        )
    result: list[tuple[str, ...]] = []
    for entry in group_sets:
        columns = (entry,) if isinstance(entry, str) else tuple(entry)
        if not columns or len(set(columns)) != len(columns):
            raise FairnessInputError(
                f"group set {list(columns)!r} must name one or more distinct columns"
            )
        for column in columns:
            if column not in frame.columns:
                raise FairnessInputError(
                    f"group set {INTERSECTION_SEPARATOR.join(columns)!r} names column "
                    f"{column!r}, which is not a sensitive feature column "
                    f"(columns: {', '.join(map(str, frame.columns))})"
                )
        if columns in result:
            raise FairnessInputError(f"group set {list(columns)!r} is listed twice")
        result.append(columns)
    return result


def _privileged_values(
    privileged: Mapping[str, Any] | None, frame: pd.DataFrame
) -> dict[str, str]:
    values: dict[str, str] = {}
    for column, value in (privileged or {}).items():
        _, labels = _column_codes(frame, column)
        if str(value) not in labels:
            raise FairnessInputError(
                f"privileged group {column}={value!r} does not occur in column {column!r} "
                f"(values: {', '.join(labels)})"
            )
        values[column] = str(value)
    return values


# ---------------------------------------------------------------------------------------------
# The audit


class PredictionSource(Protocol):
    """What the audit reads of the predictions: one implementation per data layout.

    A *unit* is what ``Grouping.codes`` indexes: a row for :class:`RowPredictions`, a cell of
    counted rows for :class:`twinaudit.fairness.partitioned.CountTable`.
    """

    @property
    def has_scores(self) -> bool: ...

    @property
    def weighted(self) -> bool: ...

    def sums(self, grouping: Grouping) -> CellSums: ...

    def resample(self, grouping: Grouping, n_resamples: int,
                 random: np.random.Generator) -> CellSums: ...

    def roc_auc(self, grouping: Grouping) -> np.ndarray: ...

    def histogram(self, grouping: Grouping) -> np.ndarray: ...


@dataclass(frozen=True)
class RowPredictions:
    """The predictions row by row, as arrays in memory."""

    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray | None
    sample_weight: np.ndarray | None

    @property
    def has_scores(self) -> bool:
        return self.y_score is not None

    @property
    def weighted(self) -> bool:
        return self.sample_weight is not None

    def roc_auc(self, grouping: Grouping) -> np.ndarray:
        assert self.y_score is not None, "an AUC needs scores"
        return group_roc_auc(grouping.codes, grouping.n_groups, self.y_true, self.y_score,
                             self.sample_weight)

    def histogram(self, grouping: Grouping) -> np.ndarray:
        assert self.y_score is not None, "a histogram needs scores"
        return group_score_histogram(grouping.codes, grouping.n_groups, self.y_score)

    def sums(self, grouping: Grouping) -> CellSums:
        return group_cell_sums(
            grouping.codes, grouping.n_groups, self.y_true, self.y_pred, self.y_score,
            self.sample_weight,
        )

    def resample(self, grouping: Grouping, n_resamples: int,
                 random: np.random.Generator) -> CellSums:
        return stratified_bootstrap(
            grouping.codes, grouping.n_groups, self.y_true, self.y_pred, self.y_score,
            self.sample_weight, n_resamples=n_resamples, random_state=random,
        )


@dataclass(frozen=True)
class _Settings:
    """The options every part of one audit shares."""

    confidence: float
    favourable: int
    min_group_size: int
    rate_method: str


def fairness_audit(
    y_true: Any,
    y_pred: Any,
    y_score: Any,
    sensitive_features: pd.DataFrame,
    *,
    group_sets: Sequence[Sequence[str] | str],
    privileged: Mapping[str, Any] | None = None,
    sample_weight: Any = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    random_state: RandomState = 0,
    favourable: int = 1,
    min_group_size: int = SMALL_GROUP_ROWS,
    rate_interval: str = "wilson",
) -> dict[str, Any]:
    """Per-group metrics and disparities, each with a confidence interval.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_rows,)
        Labels and predictions in {0, 1} (bool accepted).
    y_score : array-like of shape (n_rows,) or None
        Predicted probability of label 1, for the expected calibration error (10 equal-width
        bins), the per-group ROC AUC, calibration curve and score histogram; ``None`` leaves
        those out (``None`` values).
    sensitive_features : pandas.DataFrame
        One column per sensitive feature, rows aligned by position with ``y_true``.
    group_sets : list of list of str
        The group sets to audit, e.g. ``[["sex"], ["race"], ["sex", "race"]]``; a list of
        several columns means their intersection.
    privileged : dict of str to value, optional
        The privileged value per column, e.g. ``{"sex": "Male", "race": "White"}``, for
        disparate impact and statistical parity. An intersection's privileged group is the
        combination of its columns' privileged values.
    sample_weight : array-like of shape (n_rows,), optional
        Non-negative row weights; every metric is then weighted (as fairlearn's
        ``sample_weight``), and rate intervals use Kish's effective sample size.
    n_resamples : int, default 1000
        Bootstrap resamples per group set; 0 gives no bootstrap intervals (``"ci": None`` for
        disparities, balanced accuracy and calibration error; rates keep their binomial ones).
    confidence : float, default 0.95
        Coverage of every interval.
    random_state : int, numpy.random.Generator or None, default 0
        Seed of the bootstrap.
    favourable : {0, 1}, default 1
        The value of ``y`` that is good for the person. The selection rate, and so demographic
        parity, disparate impact, statistical parity and the four-fifths rule, is the share of
        rows *predicted* favourable; error rates stay defined on label 1.
    min_group_size : int, default 30
        Groups with fewer rows are flagged ``small_group`` and shown, but left out of every
        disparity (listed in the group set's ``excluded_groups``).
    rate_interval : {"wilson", "clopper_pearson"}, default "wilson"
        The binomial interval of the group rates (:mod:`twinaudit.fairness.intervals`).

    Returns
    -------
    dict
        ``{"schema", "n_rows", "weighted", "n_resamples", "confidence", "random_state",
        "favourable_label", "small_group_rows", "rate_interval", "interval_methods",
        "score_bins", "overall", "group_sets"}``. ``interval_methods`` maps every metric and
        disparity to the method of its ``ci``. ``group_sets`` maps each group set's name to
        ``{"columns", "status", "reason", "privileged_group", "excluded_groups", "groups",
        "disparities"}``; ``excluded_groups`` is a list of ``{"group", "count", "reason"}``;
        ``groups`` maps each group label to ``{"values", "count", "weighted_count",
        "small_group", "metrics", "model_quality"}`` with ``metrics[name] = {"value", "ci"}``
        and ``model_quality = {"roc_auc", "calibration_curve": {"rows", "mean_score",
        "mean_label"}, "score_histogram"}`` (``None`` without scores);
        ``disparities[name] = {"value", "ci", "metric", "worst_group", "reference_group",
        "reason", "tested_rates", "p_value"}`` plus ``four_fifths_rule_violated``. A group set
        with fewer than two groups of ``min_group_size`` rows has ``status =
        "not_computable"`` and every disparity ``None`` with the reason.

    Raises
    ------
    FairnessInputError
        For labels outside {0, 1}, mismatched lengths, a missing, duplicated or all-NaN
        sensitive column, a group set naming an unknown column, a privileged value that does
        not occur, or an invalid option.
    """
    labels = validate_binary("y_true", y_true)
    n_rows = len(labels)
    if n_rows == 0:
        raise FairnessInputError("y_true is empty; expected at least one row")
    predictions = RowPredictions(
        labels, validate_binary("y_pred", y_pred, n_rows), validate_scores(y_score, n_rows),
        validate_weights(sample_weight, n_rows),
    )
    return audit_predictions(
        predictions, validate_sensitive_features(sensitive_features, n_rows), n_rows,
        group_sets=group_sets, privileged=privileged, n_resamples=n_resamples,
        confidence=confidence, random_state=random_state, favourable=favourable,
        min_group_size=min_group_size, rate_interval=rate_interval)


def audit_predictions(
    predictions: PredictionSource,
    frame: pd.DataFrame,
    n_rows: int,
    *,
    group_sets: Sequence[Sequence[str] | str],
    privileged: Mapping[str, Any] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    random_state: RandomState = 0,
    favourable: int = 1,
    min_group_size: int = SMALL_GROUP_ROWS,
    rate_interval: str = "wilson",
) -> dict[str, Any]:
    """:func:`fairness_audit` of any :class:`PredictionSource`; ``frame`` holds the sensitive
    columns of each of its units, ``n_rows`` the rows they stand for."""
    n_resamples = _check_bootstrap_options(n_resamples, confidence)
    settings = _check_settings(confidence, favourable, min_group_size, rate_interval)
    set_columns = _group_set_columns(group_sets, frame)
    privileged_values = _privileged_values(privileged, frame)

    # One independent stream per group set, so a set's intervals depend on its position only.
    randoms = np.random.default_rng(random_state).spawn(len(set_columns) + 1)
    everyone = Grouping(("all",), np.zeros(len(frame), np.intp), ("all",), ({},))
    arrays = _metric_arrays(everyone, predictions, n_resamples, randoms[0], settings)
    results: dict[str, Any] = {}
    for columns, random in zip(set_columns, randoms[1:], strict=True):
        grouping = encode_groups(frame, columns)
        results[grouping.name] = _group_set_entry(
            grouping, _metric_arrays(grouping, predictions, n_resamples, random, settings),
            privileged_values, settings,
        )
    return {
        "schema": SCHEMA,
        "n_rows": n_rows,
        "weighted": predictions.weighted,
        "n_resamples": n_resamples,
        "confidence": float(confidence),
        "random_state": random_state if isinstance(random_state, int) else None,
        "favourable_label": settings.favourable,
        "small_group_rows": settings.min_group_size,
        "rate_interval": settings.rate_method,
        "interval_methods": interval_methods(settings.rate_method),
        "score_bins": {"calibration": N_CALIBRATION_BINS, "histogram": N_HISTOGRAM_BINS},
        "overall": _groups_entry(everyone, arrays, settings)["all"],
        "group_sets": results,
    }


def interval_methods(rate_method: str = "wilson") -> dict[str, str]:
    """The interval method of every metric and disparity of an audit (its ``ci``)."""
    return {name: rate_method if name in RATE_METRICS else BCA
            for name in (*GROUP_METRICS, *DISPARITIES)}


def _check_bootstrap_options(n_resamples: Any, confidence: Any) -> int:
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise FairnessInputError(f"confidence must be between 0 and 1; got {confidence!r}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 0:
        raise FairnessInputError(f"n_resamples must be a whole number >= 0; got {n_resamples!r}")
    return int(n_resamples)


def _check_settings(confidence: float, favourable: Any, min_group_size: Any,
                    rate_method: Any) -> _Settings:
    if isinstance(favourable, bool) or favourable not in (0, 1):
        raise FairnessInputError(f"favourable must be 0 or 1; got {favourable!r}")
    if (isinstance(min_group_size, bool) or not isinstance(min_group_size, (int, np.integer))
            or min_group_size < 1):
        raise FairnessInputError(
            f"min_group_size must be a whole number >= 1; got {min_group_size!r}")
    if rate_method not in RATE_METHODS:
        raise FairnessInputError(f"rate_interval must be one of {', '.join(RATE_METHODS)}; "
                                 f"got {rate_method!r}")
    return _Settings(float(confidence), int(favourable), int(min_group_size), str(rate_method))


@dataclass(frozen=True)
class _MetricArrays:
    """One group set's metrics: on the data (n_groups,), per bootstrap resample
    (n_resamples, n_groups) and per leave-one-out data set (n_cells, n_groups), with the rows
    each leave-one-out value stands for, and the per-group model-quality context."""

    sums: CellSums
    point: dict[str, np.ndarray]
    resampled: dict[str, np.ndarray] | None
    jackknife: dict[str, np.ndarray]
    jackknife_rows: np.ndarray
    roc_auc: np.ndarray | None
    histogram: np.ndarray | None

    def subset(self, keep: np.ndarray) -> _MetricArrays:
        """The same arrays restricted to the groups in ``keep`` (a boolean mask)."""
        def pick(metrics: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {name: values[..., keep] for name, values in metrics.items()}

        return replace(self, point=pick(self.point), jackknife=pick(self.jackknife),
                       resampled=None if self.resampled is None else pick(self.resampled))


def _metric_arrays(
    grouping: Grouping, predictions: PredictionSource, n_resamples: int,
    random: np.random.Generator, settings: _Settings,
) -> _MetricArrays:
    sums = predictions.sums(grouping)
    favourable = settings.favourable
    resampled = None
    if n_resamples:
        resampled = group_metrics(predictions.resample(grouping, n_resamples, random),
                                  favourable)
    jackknife, jackknife_rows = leave_one_out(sums)
    roc_auc = histogram = None
    if predictions.has_scores:
        roc_auc, histogram = predictions.roc_auc(grouping), predictions.histogram(grouping)
    return _MetricArrays(sums, group_metrics(sums, favourable), resampled,
                         group_metrics(jackknife, favourable), jackknife_rows, roc_auc,
                         histogram)


def _bootstrap_interval(arrays: _MetricArrays, point: np.ndarray, name: str,
                        resampled: np.ndarray | None, jackknife: np.ndarray,
                        confidence: float) -> tuple[np.ndarray, np.ndarray] | None:
    """BCa interval of a group metric that is not a rate (balanced accuracy, calibration
    error); ``None`` without resamples."""
    if resampled is None:
        return None
    floor, ceiling = _natural_bounds(name)
    return bca_interval(resampled, point, jackknife, arrays.jackknife_rows,
                        confidence=confidence, floor=floor, ceiling=ceiling)


def _natural_bounds(name: str) -> tuple[float | None, float | None]:
    """The bound a statistic's bias pushes it against: 0 for a max − min spread and the
    calibration error, 1 for a min / max ratio (the BCa boundary rule's end)."""
    if name == "expected_calibration_error" or (
            "_difference" in name and name != "statistical_parity_difference"):
        return 0.0, None
    if "_ratio" in name:
        return None, 1.0
    return None, None


def _groups_entry(grouping: Grouping, arrays: _MetricArrays, settings: _Settings) -> dict:
    counts = rate_counts(arrays.sums, settings.favourable)
    intervals: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    for name in GROUP_METRICS:
        if name in RATE_METRICS:
            intervals[name] = binomial_interval(*counts[name], method=settings.rate_method,
                                            confidence=settings.confidence)
        else:
            intervals[name] = _bootstrap_interval(
                arrays, arrays.point[name], name,
                None if arrays.resampled is None else arrays.resampled[name],
                arrays.jackknife[name], settings.confidence)
    rows, weights = arrays.sums.group_rows, arrays.sums.group_weight
    quality = _model_quality(arrays)
    return {
        label: {
            "values": grouping.values[group],
            "count": int(rows[group]),
            "weighted_count": float(weights[group]),
            "small_group": bool(rows[group] < settings.min_group_size),
            "metrics": {
                name: {
                    "value": _number(arrays.point[name][group]),
                    "ci": _interval(intervals[name], group),
                }
                for name in GROUP_METRICS
            },
            "model_quality": None if quality is None else quality[group],
        }
        for group, label in enumerate(grouping.labels)
    }


def _model_quality(arrays: _MetricArrays) -> list[dict[str, Any]] | None:
    """Per group: ROC AUC, the reliability curve per calibration bin, the score histogram."""
    if arrays.roc_auc is None or arrays.histogram is None:
        return None
    curve = arrays.sums.calibration_curve()
    return [{
        "roc_auc": _number(arrays.roc_auc[group]),
        "calibration_curve": {
            "rows": [int(rows) for rows in curve["rows"][group]],
            "mean_score": [_rounded(value) for value in curve["mean_score"][group]],
            "mean_label": [_rounded(value) for value in curve["mean_label"][group]],
        },
        "score_histogram": [int(rows) for rows in arrays.histogram[group]],
    } for group in range(len(arrays.roc_auc))]


def _rounded(value: Any) -> float | None:
    # Curve points are for reading and drawing: six decimals keep results.json small.
    number = _number(value)
    return None if number is None else round(number, 6)


def _group_set_entry(
    grouping: Grouping,
    arrays: _MetricArrays,
    privileged_values: dict[str, str],
    settings: _Settings,
) -> dict[str, Any]:
    privileged_index, privileged_reason = _privileged_group(grouping, privileged_values)
    rows = arrays.sums.group_rows
    included = rows >= settings.min_group_size
    excluded = [
        {"group": label, "count": int(rows[group]),
         "reason": f"{int(rows[group])} rows, fewer than min_group_size "
                   f"({settings.min_group_size}): shown, but left out of the disparities"}
        for group, label in enumerate(grouping.labels) if not included[group]
    ]
    entry: dict[str, Any] = {
        "columns": list(grouping.columns),
        "status": "ok",
        "reason": None,
        "privileged_group": None,
        "excluded_groups": excluded,
        "groups": _groups_entry(grouping, arrays, settings),
    }
    if privileged_index is not None:
        entry["privileged_group"] = grouping.labels[privileged_index]
    reason = None
    if grouping.n_groups < 2:
        reason = (
            f"group set {grouping.name!r} has a single group ({grouping.labels[0]!r}); "
            "disparities need at least two groups"
        )
    elif included.sum() < 2:
        reason = (
            f"group set {grouping.name!r} has {int(included.sum())} group(s) of at least "
            f"{settings.min_group_size} rows (min_group_size); disparities need at least two"
        )
    if reason is not None:
        entry.update(status="not_computable", reason=reason)
        names = (*DISPARITIES, "four_fifths_rule_violated")
        entry["disparities"] = {name: _not_computable(reason) for name in names}
        return entry
    if privileged_index is not None and not included[privileged_index]:
        privileged_reason = (f"the privileged group {grouping.labels[privileged_index]!r} has "
                             f"fewer than {settings.min_group_size} rows (min_group_size)")
        privileged_index = None
    elif privileged_index is not None:
        privileged_index = int(included[:privileged_index].sum())  # its place among the kept
    kept_labels = tuple(label for group, label in enumerate(grouping.labels) if included[group])
    kept_counts = {name: (successes[included], trials[included]) for name, (successes, trials)
                   in rate_counts(arrays.sums, settings.favourable).items()}
    entry["disparities"] = _disparity_entries(
        kept_labels, arrays.subset(included), kept_counts, privileged_index, privileged_reason,
        settings.confidence,
    )
    return entry


def _privileged_group(
    grouping: Grouping, privileged_values: dict[str, str]
) -> tuple[int | None, str | None]:
    unnamed = [column for column in grouping.columns if column not in privileged_values]
    if unnamed:
        return None, f"no privileged value given for column {unnamed[0]!r}"
    wanted = {column: privileged_values[column] for column in grouping.columns}
    for group, values in enumerate(grouping.values):
        if values == wanted:
            return group, None
    label = INTERSECTION_SEPARATOR.join(wanted.values())
    return None, f"privileged group {label!r} does not occur in group set {grouping.name!r}"


# ---------------------------------------------------------------------------------------------
# Disparities: the same arithmetic on point values (n_groups,), resamples and leave-one-out
# data sets (n, n_groups)


def _spread(values: np.ndarray, reference: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Between-group difference (max − min) and ratio (min / max), ignoring undefined groups.

    With a ``reference`` (the rates on the data), the "max" and "min" are taken at the groups
    that are highest and lowest in the reference, in every resample alike: the *anchored*
    spread (see :func:`disparity_intervals`).
    """
    if reference is None:
        highest = np.fmax.reduce(values, axis=-1)
        lowest = np.fmin.reduce(values, axis=-1)
    else:
        highest, lowest = _at(values, reference, np.argmax), _at(values, reference, np.argmin)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(highest > 0, lowest / highest, np.nan)
    return highest - lowest, ratio


def _at(values: np.ndarray, reference: np.ndarray, pick: Any) -> np.ndarray:
    """``values`` at the group that ``pick`` (argmax or argmin) chooses in ``reference``,
    undefined groups left out; reference ``(..., n_groups)``, values ``(n, ..., n_groups)``
    or the reference's shape."""
    undefined = np.isnan(reference)
    fill = -np.inf if pick is np.argmax else np.inf
    index = pick(np.where(undefined, fill, reference), axis=-1)[..., None]
    index = np.broadcast_to(index, (*values.shape[:-1], 1))
    chosen = np.take_along_axis(values, index, axis=-1)[..., 0]
    return np.where(undefined.all(axis=-1), np.nan, chosen)


def _as_fairlearn(rate: np.ndarray) -> np.ndarray:
    """fairlearn's convention: a rate without a denominator (a TPR in a group without
    positives) counts as 0 in a disparity (its ``true_positive_rate`` returns 0 there)."""
    return np.nan_to_num(rate, nan=0.0)


def _as_is(rate: np.ndarray) -> np.ndarray:
    return rate


def _disparity_values(
    metrics: dict[str, np.ndarray], privileged_index: int | None,
    reference: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Every disparity from group metrics of shape ``(..., n_groups)``; anchored at the
    extreme groups of the ``reference`` metrics when given."""
    def spread(name: str, convert: Any = _as_is) -> tuple[np.ndarray, np.ndarray]:
        anchor = None if reference is None else convert(reference[name])
        return _spread(convert(metrics[name]), anchor)

    parity_difference, parity_ratio = spread("selection_rate")
    values = {
        "demographic_parity_difference": parity_difference,
        "demographic_parity_ratio": parity_ratio,
    }
    # fairlearn's names hold fairlearn's values; "_defined" leaves undefined groups out.
    for suffix, convert in (("", _as_fairlearn), ("_defined", _as_is)):
        tpr_difference, tpr_ratio = spread("true_positive_rate", convert)
        fpr_difference, fpr_ratio = spread("false_positive_rate", convert)
        values |= {
            f"equalized_odds_difference{suffix}": np.fmax(tpr_difference, fpr_difference),
            f"equalized_odds_ratio{suffix}": np.fmin(tpr_ratio, fpr_ratio),
            f"equal_opportunity_difference{suffix}": tpr_difference,
            f"equal_opportunity_ratio{suffix}": tpr_ratio,
        }
    values["predictive_parity_difference"] = spread("precision")[0]
    if privileged_index is not None:
        selection = metrics["selection_rate"]
        privileged_rate = selection[..., privileged_index]
        unprivileged = np.delete(selection, privileged_index, -1)
        if reference is None:
            lowest_unprivileged = np.fmin.reduce(unprivileged, axis=-1)
        else:
            lowest_unprivileged = _at(unprivileged, np.delete(
                reference["selection_rate"], privileged_index, -1), np.argmin)
        with np.errstate(divide="ignore", invalid="ignore"):
            impact = np.where(privileged_rate > 0, lowest_unprivileged / privileged_rate, np.nan)
        values["disparate_impact"] = impact
        values["statistical_parity_difference"] = lowest_unprivileged - privileged_rate
    return values


def disparity_intervals(
    point: dict[str, np.ndarray], resampled: dict[str, np.ndarray],
    jackknife: dict[str, np.ndarray], jackknife_rows: np.ndarray,
    privileged_index: int | None, confidence: float = 0.95,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The interval of every disparity, from group metrics on the data, resamples and
    leave-one-out data sets.

    Shapes: ``point`` metrics ``(..., n_groups)``, ``resampled`` ``(n_resamples, ...,
    n_groups)``, ``jackknife`` ``(n_cells, ..., n_groups)`` with ``jackknife_rows`` of shape
    ``(n_cells,)`` or ``(n_cells, ...)``. Any middle axes are independent data sets (the
    coverage simulation uses them).

    The rule, per side. A max − min spread is biased upward, and when the groups barely
    differ the bootstrap cannot find its lower end: the groups that are extreme in a resample
    are not those extreme in the data. Its lower bound therefore comes from the *anchored*
    spread, ``rate(highest group) − rate(lowest group)`` with the two groups fixed at those
    of the data: whatever the truth, the true spread is at least the true anchored one, so a
    lower bound of the anchored spread is a valid lower bound of the spread (and it is
    regular: no max inside). The upper bound is the larger of the BCa bound of the spread
    itself and the anchored difference's largest size (for two groups the spread is the
    anchored difference's absolute value, so this keeps its coverage when the truth is near
    0, where the spread's own bootstrap undershoots). Mirrored for min / max ratios. For
    disparate impact and the statistical parity difference (a minimum over the unprivileged
    groups, biased downward) the *upper* bound is the anchored one, the lower the plain BCa.
    Both use BCa with the boundary rule of :mod:`twinaudit.fairness.intervals`, so every
    interval contains its estimate.
    """
    values = _disparity_values(point, privileged_index)
    plain = (_disparity_values(resampled, privileged_index),
             _disparity_values(jackknife, privileged_index))
    anchored = (_disparity_values(resampled, privileged_index, point),
                _disparity_values(jackknife, privileged_index, point))
    intervals = {}
    for name, value in values.items():
        floor, ceiling = _natural_bounds(name)
        plain_low, plain_high = bca_interval(
            plain[0][name], value, plain[1][name], jackknife_rows, confidence=confidence,
            floor=floor, ceiling=ceiling)
        anchored_low, anchored_high = bca_interval(
            anchored[0][name], value, anchored[1][name], jackknife_rows,
            confidence=confidence, floor=floor, ceiling=ceiling)
        if floor is not None:  # a spread: its lower end is the anchored one
            # The anchored difference may change sign; its size bounds the spread of two
            # groups from above too (|d| <= max(-low, high)).
            low = np.maximum(anchored_low, floor)
            high = np.fmax(plain_high, np.fmax(anchored_high, -anchored_low))
        elif ceiling is not None:  # a min / max ratio: its upper end is the anchored one
            # Mirrored: an anchored ratio above 1 is the inverse ratio of the same two groups.
            with np.errstate(divide="ignore", invalid="ignore"):
                inverse = np.where(anchored_high > 0, 1 / anchored_high, np.nan)
            low = np.fmin(plain_low, np.fmin(anchored_low, inverse))
            high = np.minimum(anchored_high, ceiling)
        else:  # a signed gap or ratio against the lowest unprivileged group
            low, high = plain_low, anchored_high
        intervals[name] = (np.fmin(low, value), np.fmax(high, value))
    return intervals


def _tested_rates(name: str) -> tuple[str, ...]:
    """The group rates whose homogeneity the p-value of a disparity tests."""
    if name.startswith("equalized_odds"):
        return ("true_positive_rate", "false_positive_rate")
    if name.startswith("equal_opportunity"):
        return ("true_positive_rate",)
    if name.startswith("predictive_parity"):
        return ("precision",)
    return ("selection_rate",)


def _convention(name: str) -> Any:
    """How a disparity treats undefined rates: fairlearn's 0 for fairlearn's names."""
    fairlearn_named = name.startswith(("equalized_odds", "equal_opportunity"))
    return _as_fairlearn if fairlearn_named and not name.endswith("_defined") else _as_is


def _driving_metric(name: str, point: dict[str, np.ndarray]) -> str:
    """Which group rate sets a disparity (for equalized odds, the worse component)."""
    if not name.startswith("equalized_odds"):
        return _tested_rates(name)[0]
    convert = _convention(name)
    part = 0 if "difference" in name else 1  # _spread returns (difference, ratio)
    true_positive = _spread(convert(point["true_positive_rate"]))[part]
    false_positive = _spread(convert(point["false_positive_rate"]))[part]
    if np.isnan(false_positive):
        return "true_positive_rate"
    if np.isnan(true_positive):
        return "false_positive_rate"
    # A larger difference, or a smaller ratio, is the worse component.
    false_is_worse = false_positive > true_positive if part == 0 else false_positive < true_positive
    return "false_positive_rate" if false_is_worse else "true_positive_rate"


def _disparity_entries(
    labels: tuple[str, ...],
    arrays: _MetricArrays,
    counts: dict[str, tuple[np.ndarray, np.ndarray]],
    privileged_index: int | None,
    privileged_reason: str | None,
    confidence: float,
) -> dict[str, Any]:
    point, resampled = arrays.point, arrays.resampled
    point_values = _disparity_values(point, privileged_index)
    intervals = None
    if resampled is not None:
        intervals = disparity_intervals(point, resampled, arrays.jackknife,
                                        arrays.jackknife_rows, privileged_index, confidence)
    entries: dict[str, Any] = {}
    for name in DISPARITIES:
        if name not in point_values:
            entries[name] = _not_computable(f"needs a privileged group: {privileged_reason}")
            continue
        metric = _driving_metric(name, point)
        against_privileged = name in ("disparate_impact", "statistical_parity_difference")
        worst, reference = _extreme_groups(
            _convention(name)(point[metric]), labels,
            privileged_index if against_privileged else None
        )
        ci = None if intervals is None else _interval(intervals[name])
        value = _number(point_values[name])
        tested = _tested_rates(name)
        entries[name] = {
            "value": value,
            "ci": ci,
            "metric": metric,
            "worst_group": worst,
            "reference_group": reference,
            "reason": None if value is not None else f"{metric} is undefined or 0 where needed",
            "tested_rates": list(tested),
            "p_value": _number(homogeneity_p_value([counts[rate] for rate in tested])),
        }
    entries["four_fifths_rule_violated"] = _four_fifths_entry(
        entries["demographic_parity_ratio"],
        None if resampled is None else _spread(resampled["selection_rate"])[1],
    )
    return entries


def _extreme_groups(
    values: np.ndarray, labels: tuple[str, ...], privileged_index: int | None
) -> tuple[str | None, str | None]:
    """(worst, reference): lowest and highest group, or lowest unprivileged and privileged."""
    candidates = values.astype(float)
    reference = None
    if privileged_index is not None:
        candidates[privileged_index] = np.nan
        reference = labels[privileged_index]
    if np.isnan(candidates).all():
        return None, reference
    if reference is None:
        reference = labels[int(np.nanargmax(candidates))]
    return labels[int(np.nanargmin(candidates))], reference


def _four_fifths_entry(ratio_entry: dict[str, Any], resampled_ratio: np.ndarray | None) -> dict:
    ratio = ratio_entry["value"]
    share = None
    if resampled_ratio is not None and not np.isnan(resampled_ratio).all():
        defined = resampled_ratio[~np.isnan(resampled_ratio)]
        share = float(np.mean(defined < FOUR_FIFTHS))
    return {
        "value": None if ratio is None else bool(ratio < FOUR_FIFTHS),
        "ratio": ratio,
        "ci": ratio_entry["ci"],
        "share_of_resamples_violating": share,
        "metric": "selection_rate",
        "worst_group": ratio_entry["worst_group"],
        "reference_group": ratio_entry["reference_group"],
        "reason": None if ratio is not None else "selection rates are 0 in every group",
    }


def _not_computable(reason: str) -> dict[str, Any]:
    return {
        "value": None, "ci": None, "metric": None, "worst_group": None,
        "reference_group": None, "reason": reason, "tested_rates": None, "p_value": None,
    }


def _number(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


def _interval(bounds: tuple[np.ndarray, np.ndarray] | None, index: int | None = None):
    if bounds is None:
        return None
    low, high = (bound if index is None else bound[index] for bound in bounds)
    low, high = _number(low), _number(high)
    return None if low is None or high is None else [low, high]


# ---------------------------------------------------------------------------------------------
# Across seeds and frameworks


def summarise_across_seeds(
    runs: Sequence[Mapping[str, Any]],
    *,
    frameworks: tuple[str, str],
    margins: Mapping[str, float] = EQUIVALENCE_MARGINS,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Seed spread per framework of every disparity, and the paired equivalence verdict.

    The twins of one seed share it, so each metric is judged on the per-seed paired
    differences first − second (:func:`twinaudit.audits.seed_noise.compare_frameworks`): their
    mean, its (1 − 2·alpha) interval, and a TOST verdict at the metric family's margin —
    ``ratio`` for ratios (disparate impact and the ``*_ratio`` disparities), ``disparity``
    for the other disparities, ``accuracy`` for the overall rates. Seeds where the value is
    undefined drop their pair.

    Parameters
    ----------
    runs : sequence of dict
        One ``{"framework": str, "seed": int, "audit": dict}`` per trained twin, where
        ``audit`` is a :func:`fairness_audit` result; both frameworks must have the same seeds.
    frameworks : (str, str)
        The two frameworks compared; the gap is first minus second.
    margins : mapping of metric family to margin
    alpha : float

    Returns
    -------
    dict
        ``{"rule", "frameworks", "alpha", "seeds", "overall", "group_sets"}``;
        ``group_sets[name][disparity]`` and ``overall[metric]`` are ``compare_frameworks``
        results.
    """
    audits = _audits_by_framework(runs, frameworks)
    first_audit = audits[frameworks[0]][0]

    def compare(extract, family: str) -> dict[str, Any]:
        values = {framework: [extract(audit) for audit in audits[framework]]
                  for framework in frameworks}
        return compare_frameworks(values, frameworks, margin=margins[family], alpha=alpha)

    group_sets = {
        name: {
            disparity: compare(lambda audit, n=name, d=disparity:
                               audit["group_sets"][n]["disparities"][d]["value"],
                               disparity_family(disparity))
            for disparity in DISPARITIES
        }
        for name in first_audit["group_sets"]
    }
    overall = {
        metric: compare(lambda audit, m=metric: audit["overall"]["metrics"][m]["value"],
                        "accuracy")
        for metric in GROUP_METRICS
    }
    return {
        "rule": f"paired TOST equivalence of {frameworks[0]} - {frameworks[1]} over seeds "
                f"({1 - 2 * alpha:.0%} CI inside the family's margin)",
        "frameworks": list(frameworks),
        "alpha": float(alpha),
        "seeds": {framework: sorted(run["seed"] for run in runs
                                    if run["framework"] == framework)
                  for framework in frameworks},
        "overall": overall,
        "group_sets": group_sets,
    }


def disparity_family(disparity: str) -> str:
    """The margin family of a disparity: ``ratio`` for ratios, ``disparity`` otherwise."""
    return "ratio" if disparity.endswith("_ratio") or disparity == "disparate_impact" \
        else "disparity"


def _audits_by_framework(
    runs: Sequence[Mapping[str, Any]], frameworks: tuple[str, str]
) -> dict[str, list[Mapping[str, Any]]]:
    audits: dict[str, list[Mapping[str, Any]]] = {framework: [] for framework in frameworks}
    seen: set[tuple[str, Any]] = set()
    for run in runs:
        framework = run.get("framework")
        if framework not in audits:
            raise FairnessInputError(
                f"run framework {framework!r} is not one of {', '.join(frameworks)}"
            )
        if (framework, run.get("seed")) in seen:
            raise FairnessInputError(f"run {framework} seed {run.get('seed')!r} is listed twice")
        seen.add((framework, run.get("seed")))
    # Paired by seed: each framework's audits in seed order, and the same seeds in both.
    ordered = sorted(runs, key=lambda run: run["seed"])
    for run in ordered:
        audits[run["framework"]].append(run["audit"])

    for framework, found in audits.items():
        if not found:
            raise FairnessInputError(f"no run of framework {framework!r}; expected at least one")
    seeds = [sorted(run["seed"] for run in runs if run["framework"] == framework)
             for framework in frameworks]
    if seeds[0] != seeds[1]:
        raise FairnessInputError(f"the frameworks' seeds differ ({seeds[0]} and {seeds[1]}); "
                                 "paired statistics need the same seeds in both")
    names = [sorted(audit["group_sets"]) for found in audits.values() for audit in found]
    if any(found != names[0] for found in names):
        raise FairnessInputError("runs audit different group sets; expected the same in every run")
    return audits
