"""Group confusion counts and a group-stratified bootstrap, as arithmetic on counts.

Every group metric of the fairness audit is a function of a handful of per-group sums, so the
data are reduced once to *cell sums*: for every (group, calibration bin, y_true, y_pred) cell,
the number of rows, the sum of their sample weights and the sum of weight × score. One
``np.bincount`` over a flat cell index does it in a single vectorised pass.

The bootstrap never materialises a resampled data set. Resampling the ``n_g`` rows of a group
with replacement only changes how many rows land in each of its cells, and those counts are a
multinomial draw with the cell shares as probabilities, so all resamples of all groups come
from one ``Generator.multinomial`` call on a ``(n_resamples, n_groups, n_cells)`` array. See
:func:`stratified_bootstrap` for what is exact and what is moment-matched.

Array layout: cell arrays have shape ``(..., n_groups, n_bins, 2, 2)``; the last two axes are
``y_true`` and ``y_pred`` (so ``[..., 1, 1]`` is the true-positive cell) and any leading axes
are resamples. Metric arrays have shape ``(..., n_groups)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Equal-width bins on [0, 1] for the expected calibration error.
N_CALIBRATION_BINS = 10
#: Groups with fewer rows than this are flagged as unreliable.
SMALL_GROUP_ROWS = 30
#: Metrics computed per group by :func:`group_metrics`, in report order.
GROUP_METRICS = (
    "base_rate",
    "selection_rate",
    "accuracy",
    "balanced_accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "precision",
    "expected_calibration_error",
)

RandomState = int | np.random.Generator | None


@dataclass(frozen=True)
class CellSums:
    """Sufficient statistics per (group, calibration bin, y_true, y_pred) cell.

    Attributes
    ----------
    rows : numpy.ndarray
        Number of rows per cell, shape ``(..., n_groups, n_bins, 2, 2)``.
    weight : numpy.ndarray
        Sum of sample weights per cell (equal to ``rows`` when unweighted), same shape.
    weighted_score : numpy.ndarray or None
        Sum of weight × score per cell, same shape; ``None`` when no scores were given.
    """

    rows: np.ndarray
    weight: np.ndarray
    weighted_score: np.ndarray | None

    @property
    def group_rows(self) -> np.ndarray:
        """Rows per group, shape ``(..., n_groups)``."""
        return self.rows.sum(axis=(-3, -2, -1))

    @property
    def group_weight(self) -> np.ndarray:
        """Weighted count per group, shape ``(..., n_groups)``."""
        return self.weight.sum(axis=(-3, -2, -1))

    def pooled(self) -> CellSums:
        """The same sums with all groups merged into one (keeps a group axis of length 1)."""
        score = None if self.weighted_score is None else _pool(self.weighted_score)
        return CellSums(_pool(self.rows), _pool(self.weight), score)


def _pool(cells: np.ndarray) -> np.ndarray:
    return cells.sum(axis=-4, keepdims=True)


def calibration_bins(y_score: np.ndarray, n_bins: int = N_CALIBRATION_BINS) -> np.ndarray:
    """Equal-width bin index of each score in [0, 1]; a score of exactly 1 goes to the top bin."""
    return np.minimum((np.asarray(y_score) * n_bins).astype(np.intp), n_bins - 1)


def _cell_index(
    group_codes: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None,
    n_bins: int,
) -> np.ndarray:
    # Row-major flat index into (n_groups, n_bins, 2, 2).
    bins = 0 if y_score is None else calibration_bins(y_score, n_bins)
    return ((np.asarray(group_codes, np.intp) * n_bins + bins) * 2 + y_true) * 2 + y_pred


def group_cell_sums(
    group_codes: np.ndarray,
    n_groups: int,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    *,
    n_bins: int = N_CALIBRATION_BINS,
) -> CellSums:
    """Per-group (weighted) confusion and calibration sums in one vectorised pass.

    Parameters
    ----------
    group_codes : numpy.ndarray
        Integer group of each row, in ``range(n_groups)``.
    n_groups : int
        Number of groups.
    y_true, y_pred : numpy.ndarray
        Labels and predictions in {0, 1}.
    y_score : numpy.ndarray, optional
        Scores in [0, 1] (probability of the positive class), for calibration.
    sample_weight : numpy.ndarray, optional
        Non-negative weight of each row; all ones when omitted.
    n_bins : int, default 10
        Number of equal-width calibration bins.

    Returns
    -------
    CellSums
        Arrays of shape ``(n_groups, n_bins, 2, 2)``.
    """
    index = _cell_index(group_codes, y_true, y_pred, y_score, n_bins)
    shape = (n_groups, n_bins, 2, 2)
    size = int(np.prod(shape))

    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=size).reshape(shape)

    rows = total(None)
    weight = rows.astype(float) if sample_weight is None else total(sample_weight)
    weighted_score = None
    if y_score is not None:
        weighted_score = total(y_score if sample_weight is None else sample_weight * y_score)
    return CellSums(rows, weight, weighted_score)


def group_metrics(sums: CellSums) -> dict[str, np.ndarray]:
    """Every per-group metric from cell sums, vectorised over any leading (resample) axes.

    A rate whose denominator is zero (a TPR in a group without positives, a precision without
    positive predictions) is NaN, meaning "not defined". fairlearn and scikit-learn return 0
    there instead; NaN keeps such a group out of the between-group disparities.
    Balanced accuracy follows scikit-learn: the mean of TPR and TNR over the classes present.
    The expected calibration error is ``sum_b |sum_b(w·y) − sum_b(w·score)| / sum(w)``, the
    weighted gap between mean label and mean score per bin, weighted by the bin's share.

    Parameters
    ----------
    sums : CellSums
        Output of :func:`group_cell_sums` or :func:`stratified_bootstrap`.

    Returns
    -------
    dict of str to numpy.ndarray
        One array of shape ``(..., n_groups)`` per name in :data:`GROUP_METRICS`.
    """
    confusion = sums.weight.sum(axis=-3)  # (..., n_groups, 2, 2): bins summed out
    true_negative, false_positive = confusion[..., 0, 0], confusion[..., 0, 1]
    false_negative, true_positive = confusion[..., 1, 0], confusion[..., 1, 1]
    positives = true_positive + false_negative
    negatives = true_negative + false_positive
    total = positives + negatives
    with np.errstate(divide="ignore", invalid="ignore"):
        true_positive_rate = true_positive / positives
        true_negative_rate = true_negative / negatives
        metrics = {
            "base_rate": positives / total,
            "selection_rate": (true_positive + false_positive) / total,
            "accuracy": (true_positive + true_negative) / total,
            "balanced_accuracy": _mean_ignoring_nan(true_positive_rate, true_negative_rate),
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive / negatives,
            "false_negative_rate": false_negative / positives,
            "precision": true_positive / (true_positive + false_positive),
            "expected_calibration_error": _calibration_error(sums, total),
        }
    return metrics


def _mean_ignoring_nan(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    present = np.isfinite(first).astype(float) + np.isfinite(second)
    return (np.nan_to_num(first) + np.nan_to_num(second)) / present


def _calibration_error(sums: CellSums, total: np.ndarray) -> np.ndarray:
    if sums.weighted_score is None:
        return np.full(total.shape, np.nan)
    label_per_bin = sums.weight[..., 1, :].sum(axis=-1)  # y_true = 1 cells: sum of w·y
    score_per_bin = sums.weighted_score.sum(axis=(-2, -1))
    return np.abs(label_per_bin - score_per_bin).sum(axis=-1) / total


def stratified_bootstrap(
    group_codes: np.ndarray,
    n_groups: int,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    *,
    n_resamples: int = 1000,
    random_state: RandomState = None,
    n_bins: int = N_CALIBRATION_BINS,
) -> CellSums:
    """Cell sums of ``n_resamples`` group-stratified bootstrap resamples, without a loop.

    What is resampled: each resample draws, independently in every group, as many rows as the
    group has, with replacement, from that group's rows. Hence every group keeps its exact row
    count in every resample (a small intersectional group never vanishes).

    How, and what is exact:

    * Row counts per (group, bin, y_true, y_pred) cell are drawn *exactly*: for a group of
      ``n_g`` rows they are ``Multinomial(n_g, rows_cell / n_g)``. Unweighted confusion counts,
      label sums and therefore every unweighted metric except the calibration error are the
      exact bootstrap distribution.
    * Sums that vary *within* a cell — the score sums of the calibration error, and the weight
      sums when rows carry different weights — are the sum of ``k`` rows drawn with
      replacement from the cell, given the exact count ``k``. They are drawn from the normal
      distribution with that sum's exact mean ``k·mean`` and covariance ``k·cov`` of
      (weight, weight × score) over the cell's rows, clipped to the possible range. Within a
      calibration bin scores vary by at most 0.1, so this moment-matched draw is close to
      exact; for constant weights the weight sums are exact.

    Parameters
    ----------
    group_codes, n_groups, y_true, y_pred, y_score, sample_weight, n_bins
        As for :func:`group_cell_sums`.
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    random_state : int, numpy.random.Generator or None
        Seed or generator; the same seed gives the same resamples.

    Returns
    -------
    CellSums
        Arrays of shape ``(n_resamples, n_groups, n_bins, 2, 2)``.
    """
    random = np.random.default_rng(random_state)
    index = _cell_index(group_codes, y_true, y_pred, y_score, n_bins)
    shape = (n_resamples, n_groups, n_bins, 2, 2)
    rows = np.bincount(index, minlength=int(np.prod(shape[1:]))).reshape(n_groups, -1)
    group_rows = rows.sum(axis=1)
    shares = rows / np.maximum(group_rows, 1)[:, None]
    drawn = random.multinomial(group_rows, shares, size=(n_resamples, n_groups))  # (R, G, C)

    # The within-cell sums to draw given the counts: weights (if they vary), weight × score.
    within: list[np.ndarray] = []
    if sample_weight is not None:
        within.append(sample_weight)
    if y_score is not None:
        within.append(y_score if sample_weight is None else sample_weight * y_score)
    sums = _moment_matched_sums(drawn, index, rows, within, random)
    weight = drawn.astype(float) if sample_weight is None else np.maximum(sums.pop(0), 0.0)
    weighted_score = None
    if y_score is not None:
        # A bin's mean score lies inside the bin, whatever the draw.
        lower = np.arange(n_bins).repeat(4) / n_bins
        weighted_score = np.clip(sums.pop(0), weight * lower, weight * (lower + 1 / n_bins))
        weighted_score = weighted_score.reshape(shape)
    return CellSums(drawn.reshape(shape), weight.reshape(shape), weighted_score)


def _moment_matched_sums(
    counts: np.ndarray,
    index: np.ndarray,
    rows: np.ndarray,
    values: list[np.ndarray],
    random: np.random.Generator,
) -> list[np.ndarray]:
    """Per cell, sums of ``counts`` rows drawn with replacement, one sum per array of values.

    Given ``k`` rows drawn from a cell, the vector of sums has mean ``k·mean`` and covariance
    ``k·cov`` of the cell's rows; it is drawn from the normal with exactly those moments, so
    the sums are correlated as the rows are (weights with weight × score).

    Shapes: ``counts`` (R, G, C); ``rows`` (G, C); each of ``values`` (n_rows,); each returned
    sum (R, G, C).
    """
    if not values:
        return []

    def cell_mean(per_row: np.ndarray) -> np.ndarray:
        totals = np.bincount(index, weights=per_row, minlength=rows.size).reshape(rows.shape)
        return np.divide(totals, rows, out=np.zeros_like(totals), where=rows > 0)

    means = np.stack([cell_mean(value) for value in values], axis=-1)  # (G, C, m)
    second_moments = np.stack(
        [np.stack([cell_mean(first * second) for second in values], -1) for first in values], -2
    )  # (G, C, m, m)
    covariance = second_moments - means[..., :, None] * means[..., None, :]
    # A square root of each cell's covariance, V·sqrt(Λ), that is fine when it is singular
    # (constant weights, a single row): those directions get no noise and stay exact.
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))[..., None, :]
    noise = random.standard_normal((*counts.shape, len(values)))  # (R, G, C, m)
    spread = np.einsum("gcij,rgcj->rgci", root, noise)
    sums = counts[..., None] * means + np.sqrt(counts)[..., None] * spread
    return [sums[..., column] for column in range(len(values))]


def percentile_interval(
    resampled: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval along the first (resample) axis.

    Resamples where the statistic is undefined (NaN) are left out; where it is undefined in
    every resample, both bounds are NaN.

    Parameters
    ----------
    resampled : numpy.ndarray
        Statistic per resample, shape ``(n_resamples, ...)``.
    confidence : float, default 0.95
        Coverage of the two-sided interval.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds, each of shape ``resampled.shape[1:]``.
    """
    tail = (1.0 - confidence) / 2.0
    quantiles = np.array([tail, 1.0 - tail])
    if not np.isnan(resampled).any():  # the common case, and much faster than nanquantile
        low, high = np.quantile(resampled, quantiles, axis=0)
        return low, high
    bounds = np.full((2, *resampled.shape[1:]), np.nan)
    defined = ~np.isnan(resampled).all(axis=0)
    if defined.any():
        bounds[:, defined] = np.nanquantile(resampled[:, defined], quantiles, axis=0)
    return bounds[0], bounds[1]
