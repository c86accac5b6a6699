"""Group confusion counts and a group-stratified bootstrap, as arithmetic on counts.

Every group metric of the fairness audit is a function of a handful of per-group sums, so the
data are reduced once to *cell sums*: for every (group, calibration bin, y_true, y_pred) cell,
the number of rows, the sum of their sample weights, the sum of squared weights (for Kish's
effective sample size) and the sum of weight × score. One ``np.bincount`` over a flat cell
index does it in a single vectorised pass.

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
from typing import overload

import numpy as np

#: Equal-width bins on [0, 1] for the expected calibration error.
N_CALIBRATION_BINS = 10
#: Groups with fewer rows than this are flagged as unreliable and, by default, left out of
#: the disparities (``fairness_audit(min_group_size=...)``).
SMALL_GROUP_ROWS = 30
#: Equal-width bins on [0, 1] of the per-group score histogram.
N_HISTOGRAM_BINS = 20
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

#: The group rates, each a share of weight: (numerator cells, denominator cells) as
#: (y_true, y_pred) pairs. ``selection_rate`` is filled in by :func:`rate_cells`, because it
#: counts the *favourable* prediction; the error rates are always about label 1.
_RATE_CELLS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = {
    "base_rate": (((1, 0), (1, 1)), ((0, 0), (0, 1), (1, 0), (1, 1))),
    "accuracy": (((0, 0), (1, 1)), ((0, 0), (0, 1), (1, 0), (1, 1))),
    "true_positive_rate": (((1, 1),), ((1, 0), (1, 1))),
    "false_positive_rate": (((0, 1),), ((0, 0), (0, 1))),
    "false_negative_rate": (((1, 0),), ((1, 0), (1, 1))),
    "precision": (((1, 1),), ((0, 1), (1, 1))),
}
#: The metrics that are shares of weight (they get analytic binomial intervals).
RATE_METRICS = ("base_rate", "selection_rate", "accuracy", "true_positive_rate",
                "false_positive_rate", "false_negative_rate", "precision")

RandomState = int | np.random.Generator | None


def rate_cells(
    favourable: int = 1,
) -> dict[str, tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]]:
    """The (numerator, denominator) cells of every rate in :data:`RATE_METRICS`.

    The selection rate is the share of rows whose *prediction* is the favourable outcome:
    ``y_pred == favourable``. Everything else is defined on label 1, whatever is favourable.
    """
    everyone = ((0, 0), (0, 1), (1, 0), (1, 1))
    selected = tuple(cell for cell in everyone if cell[1] == favourable)
    cells = dict(_RATE_CELLS)
    cells["selection_rate"] = (selected, everyone)
    return {name: cells[name] for name in RATE_METRICS}


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
    weight_squared : numpy.ndarray or None
        Sum of squared weights per cell, for Kish's effective sample size of a weighted rate;
        ``None`` for bootstrap resamples and leave-one-out sums (their rates get no analytic
        interval, so nothing reads it there).
    """

    rows: np.ndarray
    weight: np.ndarray
    weighted_score: np.ndarray | None
    weight_squared: np.ndarray | None = None

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
        return CellSums(_pool(self.rows), _pool(self.weight), _pool(self.weighted_score),
                        _pool(self.weight_squared))

    def calibration_curve(self) -> dict[str, np.ndarray]:
        """Per group and calibration bin: rows, mean score and (weighted) mean label.

        Shapes ``(..., n_groups, n_bins)``; the means are NaN in an empty bin. Needs scores.
        """
        assert self.weighted_score is not None, "a calibration curve needs scores"
        weight = self.weight.sum(axis=(-2, -1))
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "rows": self.rows.sum(axis=(-2, -1)),
                "mean_score": self.weighted_score.sum(axis=(-2, -1)) / weight,
                "mean_label": self.weight[..., 1, :].sum(axis=-1) / weight,
            }


@overload
def _pool(cells: np.ndarray) -> np.ndarray: ...
@overload
def _pool(cells: None) -> None: ...
def _pool(cells: np.ndarray | None) -> np.ndarray | None:
    return None if cells is None else cells.sum(axis=-4, keepdims=True)


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
    weight_squared = weight if sample_weight is None else total(sample_weight**2)
    weighted_score = None
    if y_score is not None:
        weighted_score = total(y_score if sample_weight is None else sample_weight * y_score)
    return CellSums(rows, weight, weighted_score, weight_squared)


def leave_one_out(sums: CellSums) -> tuple[CellSums, np.ndarray]:
    """The jackknife on cell sums: every distinct "one row left out" data set, and its count.

    Leaving out one row changes only its own cell: one row fewer, its weight and its
    weight × score fewer. All rows of a cell give the same cell sums when unweighted, so a
    group set needs one leave-one-out data set per non-empty cell (at most
    ``n_groups × n_bins × 4``), not one per row. With varying weights (or scores) the row left
    out is the cell's *average* row, an approximation that only the bias correction's
    acceleration uses.

    Parameters
    ----------
    sums : CellSums
        Sums of shape ``(n_groups, n_bins, 2, 2)``.

    Returns
    -------
    (CellSums, numpy.ndarray)
        Sums of shape ``(n_cells, n_groups, n_bins, 2, 2)``, one per non-empty cell, and how
        many rows each stands for (the cell's row count), shape ``(n_cells,)``.
    """
    shape = sums.rows.shape
    cells = np.flatnonzero(sums.rows)
    rows = sums.rows.reshape(-1)[cells]
    one_out = np.zeros((len(cells), sums.rows.size))
    one_out[np.arange(len(cells)), cells] = 1.0

    def without(values: np.ndarray) -> np.ndarray:
        row_mean = values.reshape(-1)[cells] / rows
        return (values.reshape(1, -1) - one_out * row_mean[:, None]).reshape(-1, *shape)

    score = None if sums.weighted_score is None else without(sums.weighted_score)
    return CellSums(without(sums.rows), without(sums.weight), score), rows


def group_metrics(sums: CellSums, favourable: int = 1) -> dict[str, np.ndarray]:
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
        Output of :func:`group_cell_sums`, :func:`stratified_bootstrap` or
        :func:`leave_one_out`.
    favourable : {0, 1}, default 1
        The prediction that is good for the person: the selection rate is its share.

    Returns
    -------
    dict of str to numpy.ndarray
        One array of shape ``(..., n_groups)`` per name in :data:`GROUP_METRICS`.
    """
    confusion = sums.weight.sum(axis=-3)  # (..., n_groups, 2, 2): bins summed out
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = {name: _cell_total(confusion, numerator) / _cell_total(confusion, denominator)
                 for name, (numerator, denominator) in rate_cells(favourable).items()}
        true_negative_rate = confusion[..., 0, 0] / _cell_total(confusion, ((0, 0), (0, 1)))
        metrics = {
            **rates,
            "balanced_accuracy": _mean_ignoring_nan(rates["true_positive_rate"],
                                                    true_negative_rate),
            "expected_calibration_error": _calibration_error(sums, confusion.sum(axis=(-2, -1))),
        }
    return {name: metrics[name] for name in GROUP_METRICS}


def _cell_total(confusion: np.ndarray, cells: tuple[tuple[int, int], ...]) -> np.ndarray:
    return sum((confusion[..., true, pred] for true, pred in cells), np.zeros(()))


def rate_counts(sums: CellSums, favourable: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For every rate, its (effective) successes and trials per group, for binomial intervals.

    Unweighted these are the row counts. Weighted, a rate is a ratio of weight sums, and its
    sampling variance is that of a binomial share with Kish's effective sample size
    ``n_eff = (Σw)² / Σw²`` of the denominator's rows; the successes are ``rate × n_eff``.

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        ``(successes, trials)``, each of shape ``(n_groups,)``; trials are 0 where the rate is
        undefined.
    """
    assert sums.weight_squared is not None, "rate intervals need the squared weights"
    confusion = sums.weight.sum(axis=-3)
    squared = sums.weight_squared.sum(axis=-3)
    result = {}
    for name, (numerator, denominator) in rate_cells(favourable).items():
        weight = _cell_total(confusion, denominator)
        with np.errstate(divide="ignore", invalid="ignore"):
            trials = np.where(weight > 0, weight**2 / _cell_total(squared, denominator), 0.0)
            share = np.where(weight > 0, _cell_total(confusion, numerator) / weight, 0.0)
        result[name] = (share * trials, trials)
    return result


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
    index = _cell_index(group_codes, y_true, y_pred, y_score, n_bins)
    rows = np.bincount(index, minlength=n_groups * n_bins * 4).reshape(n_groups, -1)
    # The within-cell sums to draw given the counts: weights (if they vary), weight × score.
    within: list[np.ndarray] = []
    if sample_weight is not None:
        within.append(sample_weight)
    if y_score is not None:
        within.append(y_score if sample_weight is None else sample_weight * y_score)

    def cell_mean(per_row: np.ndarray) -> np.ndarray:
        totals = np.bincount(index, weights=per_row, minlength=rows.size).reshape(rows.shape)
        return np.divide(totals, rows, out=np.zeros_like(totals), where=rows > 0)

    moments = None
    if within:
        moments = (np.stack([cell_mean(value) for value in within], axis=-1),
                   np.stack([np.stack([cell_mean(first * second) for second in within], -1)
                             for first in within], -2))
    return bootstrap_cells(rows, moments, weighted=sample_weight is not None,
                           scored=y_score is not None, n_resamples=n_resamples,
                           random_state=random_state, n_bins=n_bins)


def bootstrap_cells(
    rows: np.ndarray,
    moments: tuple[np.ndarray, np.ndarray] | None,
    *,
    weighted: bool,
    scored: bool,
    n_resamples: int,
    random_state: RandomState,
    n_bins: int = N_CALIBRATION_BINS,
) -> CellSums:
    """The group-stratified bootstrap from cell counts alone (see :func:`stratified_bootstrap`).

    Parameters
    ----------
    rows : numpy.ndarray
        Rows per cell, shape ``(n_groups, n_bins × 4)``.
    moments : (numpy.ndarray, numpy.ndarray) or None
        Per cell, the mean ``(n_groups, n_cells, m)`` and the second moments
        ``(n_groups, n_cells, m, m)`` of the ``m`` values summed within a cell — the weight
        when ``weighted``, then weight × score when ``scored`` — over the cell's rows; None
        when neither.

    This is all the bootstrap reads of the data, so a table too large to hold, reduced to its
    cell counts and moments partition by partition, is resampled exactly as its rows would be
    (:mod:`twinaudit.fairness.partitioned`).
    """
    random = np.random.default_rng(random_state)
    n_groups = rows.shape[0]
    shape = (n_resamples, n_groups, n_bins, 2, 2)
    group_rows = rows.sum(axis=1)
    shares = rows / np.maximum(group_rows, 1)[:, None]
    drawn = random.multinomial(group_rows, shares, size=(n_resamples, n_groups))  # (R, G, C)
    sums = [] if moments is None else _moment_matched_sums(drawn, *moments, random)
    weight = drawn.astype(float) if not weighted else np.maximum(sums.pop(0), 0.0)
    weighted_score = None
    if scored:
        # A bin's mean score lies inside the bin, whatever the draw.
        lower = np.arange(n_bins).repeat(4) / n_bins
        weighted_score = np.clip(sums.pop(0), weight * lower, weight * (lower + 1 / n_bins))
        weighted_score = weighted_score.reshape(shape)
    return CellSums(drawn.reshape(shape), weight.reshape(shape), weighted_score)


def _moment_matched_sums(
    counts: np.ndarray,
    means: np.ndarray,
    second_moments: np.ndarray,
    random: np.random.Generator,
) -> list[np.ndarray]:
    """Per cell, sums of ``counts`` rows drawn with replacement, one sum per value summed.

    Given ``k`` rows drawn from a cell, the vector of sums has mean ``k·mean`` and covariance
    ``k·cov`` of the cell's rows; it is drawn from the normal with exactly those moments, so
    the sums are correlated as the rows are (weights with weight × score).

    Shapes: ``counts`` (R, G, C); ``means`` (G, C, m); ``second_moments`` (G, C, m, m); each
    returned sum (R, G, C).
    """
    covariance = second_moments - means[..., :, None] * means[..., None, :]
    # A square root of each cell's covariance, V·sqrt(Λ), that is fine when it is singular
    # (constant weights, a single row): those directions get no noise and stay exact.
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))[..., None, :]
    noise = random.standard_normal((*counts.shape, means.shape[-1]))  # (R, G, C, m)
    spread = np.einsum("gcij,rgcj->rgci", root, noise)
    sums = counts[..., None] * means + np.sqrt(counts)[..., None] * spread
    return [sums[..., column] for column in range(means.shape[-1])]


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


def group_roc_auc(
    group_codes: np.ndarray,
    n_groups: int,
    y_true: np.ndarray,
    y_score: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Per-group ROC AUC, rank-based (Mann–Whitney) and weighted, in one sort.

    The AUC is the (weighted) share of positive–negative pairs of a group where the positive
    scores higher, ties counting one half, as ``sklearn.metrics.roc_auc_score``. Rows are
    sorted by (group, score); within a group, each block of tied scores adds
    ``positives × (negatives below + ½ negatives tied)``. NaN for a group with one class only.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_groups,)``.
    """
    weight = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, float)
    order = np.lexsort((y_score, group_codes))
    groups, scores = np.asarray(group_codes)[order], np.asarray(y_score)[order]
    labels, weight = np.asarray(y_true)[order], weight[order]
    # Blocks of equal (group, score): tied scores share their negatives half and half.
    starts = np.r_[True, (groups[1:] != groups[:-1]) | (scores[1:] != scores[:-1])]
    block = np.cumsum(starts) - 1
    positive = np.bincount(block, weights=weight * labels)
    negative = np.bincount(block, weights=weight * (1 - labels))
    block_group = groups[starts]
    negatives_per_group = np.bincount(block_group, weights=negative, minlength=n_groups)
    positives_per_group = np.bincount(block_group, weights=positive, minlength=n_groups)
    # Negatives in the same group scoring lower than the block: a cumulative sum restarted
    # at each group.
    running = np.cumsum(negative) - negative
    group_start = np.r_[0.0, np.cumsum(negatives_per_group)[:-1]]
    below = running - group_start[block_group]
    wins = np.bincount(block_group, weights=positive * (below + 0.5 * negative),
                       minlength=n_groups)
    pairs = positives_per_group * negatives_per_group
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, wins / pairs, np.nan)


def group_score_histogram(
    group_codes: np.ndarray, n_groups: int, y_score: np.ndarray,
    n_bins: int = N_HISTOGRAM_BINS,
) -> np.ndarray:
    """Rows per group and equal-width score bin on [0, 1], shape ``(n_groups, n_bins)``."""
    index = np.asarray(group_codes, np.intp) * n_bins + calibration_bins(y_score, n_bins)
    return np.bincount(index, minlength=n_groups * n_bins).reshape(n_groups, n_bins)
