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
  worse of the TPR and FPR components. Groups where a rate is undefined (say, a TPR in a group
  without positives) are left out, where fairlearn would count them as 0.
* AIF360's disparate impact is ``selection_rate(unprivileged) / selection_rate(privileged)``
  and its statistical parity difference ``selection_rate(unprivileged) −
  selection_rate(privileged)``. With several unprivileged groups, the one with the lowest
  selection rate is reported (within every resample, too). The four-fifths rule is the EEOC
  one: violated when some group's selection rate is under 0.8 × the highest group's.
* The positive prediction is taken as the favorable outcome (Adult: income > 50K). The
  ``worst_group`` of a disparity is the group with the lowest value of the rate that drives
  it (``metric``), the ``reference_group`` the highest, or the privileged group for disparate
  impact and statistical parity. Where the positive prediction is unfavorable, read the two
  the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from twinaudit.audits.seed_noise import compare_frameworks
from twinaudit.errors import TwinauditError
from twinaudit.fairness.counts import (
    GROUP_METRICS,
    SMALL_GROUP_ROWS,
    CellSums,
    RandomState,
    group_cell_sums,
    group_metrics,
    percentile_interval,
    stratified_bootstrap,
)
from twinaudit.spec.sections import EQUIVALENCE_MARGINS

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

INTERSECTION_SEPARATOR = "×"
MISSING_LABEL = "<NA>"
#: The EEOC rule: adverse impact when a selection rate is under 4/5 of the highest.
FOUR_FIFTHS = 0.8
SCHEMA = "twinaudit.fairness/1"
#: The numeric disparities, each reported with value, interval and groups.
DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
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


@dataclass(frozen=True)
class _Predictions:
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray | None
    sample_weight: np.ndarray | None

    def sums(self, grouping: Grouping) -> CellSums:
        return group_cell_sums(
            grouping.codes, grouping.n_groups, self.y_true, self.y_pred, self.y_score,
            self.sample_weight,
        )

    def resample(self, grouping: Grouping, n_resamples: int, random: np.random.Generator):
        return stratified_bootstrap(
            grouping.codes, grouping.n_groups, self.y_true, self.y_pred, self.y_score,
            self.sample_weight, n_resamples=n_resamples, random_state=random,
        )


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
) -> dict[str, Any]:
    """Per-group metrics and disparities, each with a group-stratified bootstrap interval.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_rows,)
        Labels and predictions in {0, 1} (bool accepted).
    y_score : array-like of shape (n_rows,) or None
        Predicted probability of label 1, for the expected calibration error (10 equal-width
        bins); ``None`` leaves that metric out (``None`` values).
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
        ``sample_weight``).
    n_resamples : int, default 1000
        Bootstrap resamples per group set; 0 gives no intervals (``"ci": None``).
    confidence : float, default 0.95
        Coverage of the percentile intervals.
    random_state : int, numpy.random.Generator or None, default 0
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``{"schema", "n_rows", "weighted", "n_resamples", "confidence", "random_state",
        "small_group_rows", "overall", "group_sets"}``. ``group_sets`` maps each group set's
        name to ``{"columns", "status", "reason", "privileged_group", "groups",
        "disparities"}``; ``groups`` maps each group label to ``{"values", "count",
        "weighted_count", "small_group", "metrics"}`` with ``metrics[name] = {"value", "ci"}``;
        ``disparities[name] = {"value", "ci", "metric", "worst_group", "reference_group",
        "reason"}`` plus ``four_fifths_rule_violated``. A group set with a single group has
        ``status = "not_computable"`` and every disparity ``None`` with the reason.

    Raises
    ------
    FairnessInputError
        For labels outside {0, 1}, mismatched lengths, a missing, duplicated or all-NaN
        sensitive column, a group set naming an unknown column, or a privileged value that
        does not occur.
    """
    labels = validate_binary("y_true", y_true)
    n_rows = len(labels)
    if n_rows == 0:
        raise FairnessInputError("y_true is empty; expected at least one row")
    predictions = _Predictions(
        labels, validate_binary("y_pred", y_pred, n_rows), validate_scores(y_score, n_rows),
        validate_weights(sample_weight, n_rows),
    )
    n_resamples = _check_bootstrap_options(n_resamples, confidence)
    frame = validate_sensitive_features(sensitive_features, n_rows)
    set_columns = _group_set_columns(group_sets, frame)
    privileged_values = _privileged_values(privileged, frame)

    # One independent stream per group set, so a set's intervals depend on its position only.
    randoms = np.random.default_rng(random_state).spawn(len(set_columns) + 1)
    everyone = Grouping(("all",), np.zeros(n_rows, np.intp), ("all",), ({},))
    arrays = _metric_arrays(everyone, predictions, n_resamples, randoms[0])
    results: dict[str, Any] = {}
    for columns, random in zip(set_columns, randoms[1:], strict=True):
        grouping = encode_groups(frame, columns)
        results[grouping.name] = _group_set_entry(
            grouping, _metric_arrays(grouping, predictions, n_resamples, random),
            privileged_values, confidence,
        )
    return {
        "schema": SCHEMA,
        "n_rows": n_rows,
        "weighted": predictions.sample_weight is not None,
        "n_resamples": n_resamples,
        "confidence": float(confidence),
        "random_state": random_state if isinstance(random_state, int) else None,
        "small_group_rows": SMALL_GROUP_ROWS,
        "overall": _groups_entry(everyone, arrays, confidence)["all"],
        "group_sets": results,
    }


def _check_bootstrap_options(n_resamples: Any, confidence: Any) -> int:
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise FairnessInputError(f"confidence must be between 0 and 1; got {confidence!r}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 0:
        raise FairnessInputError(f"n_resamples must be a whole number >= 0; got {n_resamples!r}")
    return int(n_resamples)


@dataclass(frozen=True)
class _MetricArrays:
    """Point metrics (n_groups,) and resampled ones (n_resamples, n_groups) of one group set."""

    sums: CellSums
    point: dict[str, np.ndarray]
    resampled: dict[str, np.ndarray] | None


def _metric_arrays(
    grouping: Grouping, predictions: _Predictions, n_resamples: int, random: np.random.Generator
) -> _MetricArrays:
    sums = predictions.sums(grouping)
    resampled = None
    if n_resamples:
        resampled = group_metrics(predictions.resample(grouping, n_resamples, random))
    return _MetricArrays(sums, group_metrics(sums), resampled)


def _groups_entry(grouping: Grouping, arrays: _MetricArrays, confidence: float) -> dict:
    intervals = {
        name: None if arrays.resampled is None
        else percentile_interval(arrays.resampled[name], confidence)
        for name in GROUP_METRICS
    }
    rows, weights = arrays.sums.group_rows, arrays.sums.group_weight
    return {
        label: {
            "values": grouping.values[group],
            "count": int(rows[group]),
            "weighted_count": float(weights[group]),
            "small_group": bool(rows[group] < SMALL_GROUP_ROWS),
            "metrics": {
                name: {
                    "value": _number(arrays.point[name][group]),
                    "ci": _interval(intervals[name], group),
                }
                for name in GROUP_METRICS
            },
        }
        for group, label in enumerate(grouping.labels)
    }


def _group_set_entry(
    grouping: Grouping,
    arrays: _MetricArrays,
    privileged_values: dict[str, str],
    confidence: float,
) -> dict[str, Any]:
    privileged_index, privileged_reason = _privileged_group(grouping, privileged_values)
    entry: dict[str, Any] = {
        "columns": list(grouping.columns),
        "status": "ok",
        "reason": None,
        "privileged_group": None,
        "groups": _groups_entry(grouping, arrays, confidence),
    }
    if privileged_index is not None:
        entry["privileged_group"] = grouping.labels[privileged_index]
    if grouping.n_groups < 2:
        reason = (
            f"group set {grouping.name!r} has a single group ({grouping.labels[0]!r}); "
            "disparities need at least two groups"
        )
        entry.update(status="not_computable", reason=reason)
        names = (*DISPARITIES, "four_fifths_rule_violated")
        entry["disparities"] = {name: _not_computable(reason) for name in names}
        return entry
    entry["disparities"] = _disparity_entries(
        grouping, arrays, privileged_index, privileged_reason, confidence
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
# Disparities: the same arithmetic on point values (n_groups,) and resamples (n_resamples, n_groups)


def _spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Between-group difference (max − min) and ratio (min / max), ignoring undefined groups."""
    highest = np.fmax.reduce(values, axis=-1)
    lowest = np.fmin.reduce(values, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(highest > 0, lowest / highest, np.nan)
    return highest - lowest, ratio


def _disparity_values(
    metrics: dict[str, np.ndarray], privileged_index: int | None
) -> dict[str, np.ndarray]:
    selection, precision = metrics["selection_rate"], metrics["precision"]
    true_positive_difference, true_positive_ratio = _spread(metrics["true_positive_rate"])
    false_positive_difference, false_positive_ratio = _spread(metrics["false_positive_rate"])
    parity_difference, parity_ratio = _spread(selection)
    values = {
        "demographic_parity_difference": parity_difference,
        "demographic_parity_ratio": parity_ratio,
        "equalized_odds_difference": np.fmax(true_positive_difference, false_positive_difference),
        "equalized_odds_ratio": np.fmin(true_positive_ratio, false_positive_ratio),
        "equal_opportunity_difference": true_positive_difference,
        "equal_opportunity_ratio": true_positive_ratio,
        "predictive_parity_difference": _spread(precision)[0],
    }
    if privileged_index is not None:
        privileged_rate = selection[..., privileged_index]
        lowest_unprivileged = np.fmin.reduce(np.delete(selection, privileged_index, -1), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            impact = np.where(privileged_rate > 0, lowest_unprivileged / privileged_rate, np.nan)
        values["disparate_impact"] = impact
        values["statistical_parity_difference"] = lowest_unprivileged - privileged_rate
    return values


def _driving_metric(name: str, point: dict[str, np.ndarray]) -> str:
    """Which group rate sets a disparity (for equalized odds, the worse component)."""
    if name.startswith("equalized_odds"):
        part = 0 if name.endswith("difference") else 1  # _spread returns (difference, ratio)
        true_positive = _spread(point["true_positive_rate"])[part]
        false_positive = _spread(point["false_positive_rate"])[part]
        if np.isnan(false_positive):
            return "true_positive_rate"
        if np.isnan(true_positive):
            return "false_positive_rate"
        # A larger difference, or a smaller ratio, is the worse component.
        if part == 0:
            false_is_worse = false_positive > true_positive
        else:
            false_is_worse = false_positive < true_positive
        return "false_positive_rate" if false_is_worse else "true_positive_rate"
    if name.startswith("equal_opportunity"):
        return "true_positive_rate"
    if name.startswith("predictive_parity"):
        return "precision"
    return "selection_rate"


def _disparity_entries(
    grouping: Grouping,
    arrays: _MetricArrays,
    privileged_index: int | None,
    privileged_reason: str | None,
    confidence: float,
) -> dict[str, Any]:
    point, resampled = arrays.point, arrays.resampled
    point_values = _disparity_values(point, privileged_index)
    resampled_values = None
    if resampled is not None:
        resampled_values = _disparity_values(resampled, privileged_index)
    entries: dict[str, Any] = {}
    for name in DISPARITIES:
        if name not in point_values:
            entries[name] = _not_computable(f"needs a privileged group: {privileged_reason}")
            continue
        metric = _driving_metric(name, point)
        against_privileged = name in ("disparate_impact", "statistical_parity_difference")
        worst, reference = _extreme_groups(
            point[metric], grouping.labels, privileged_index if against_privileged else None
        )
        ci = None
        if resampled_values is not None:
            ci = _interval(percentile_interval(resampled_values[name], confidence))
        value = _number(point_values[name])
        entries[name] = {
            "value": value,
            "ci": ci,
            "metric": metric,
            "worst_group": worst,
            "reference_group": reference,
            "reason": None if value is not None else f"{metric} is undefined or 0 where needed",
        }
    entries["four_fifths_rule_violated"] = _four_fifths_entry(
        entries["demographic_parity_ratio"],
        None if resampled_values is None else resampled_values["demographic_parity_ratio"],
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
        "reference_group": None, "reason": reason,
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
