"""The fairness audit of a prediction table too large to hold: counts, not rows.

Every figure of the audit reads the rows only through per-cell sums (``fairness/counts.py``):
how many rows fall in each (group, calibration bin, y_true, y_pred) cell, and their score
sums. So a table is reduced partition by partition to a *count table* — one row per distinct
(sensitive values, label, prediction or score bins) with its row count and score sums — and
the count tables of the partitions are added up. The sum is small (at most groups × 10,000
score bins × 4 rows) whatever the number of rows, and the audit runs on it:

- the group confusion counts, rates and their binomial intervals are exact;
- the group-stratified bootstrap draws each group's cell counts from the same multinomial
  as the row bootstrap, with the same generator, so its resamples are those of the rows (the
  calibration error's within-cell score sums are moment-matched in both, from the same
  moments: :func:`twinaudit.fairness.counts.bootstrap_cells`);
- the BCa jackknife is the same per-cell leave-one-out;
- the per-group ROC AUC is computed on scores rounded down to :data:`AUC_BINS` equal-width
  bins (ties in a bin count one half): it differs from the exact AUC by at most half the
  share of positive–negative pairs that share a bin. The calibration curve and the score
  histogram use their own bins and are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twinaudit.fairness.audit import Grouping
from twinaudit.fairness.counts import (
    N_CALIBRATION_BINS,
    N_HISTOGRAM_BINS,
    CellSums,
    bootstrap_cells,
    calibration_bins,
    group_roc_auc,
)

#: Equal-width score bins on [0, 1] of the count table's ROC AUC (see the module docstring).
AUC_BINS = 10_000
#: The count table's own columns (beside the sensitive columns): its keys, then its sums.
LABEL, PREDICTION, BAD_SCORE = "_label", "_prediction", "_bad_score"
AUC_BIN, CALIBRATION_BIN, HISTOGRAM_BIN = "_auc_bin", "_calibration_bin", "_histogram_bin"
ROWS, SCORE_SUM, SCORE_SQUARES = "_rows", "_score_sum", "_score_squares"
#: Names a prediction table's own columns may not have: the count table uses them.
RESERVED = (LABEL, PREDICTION, BAD_SCORE, AUC_BIN, CALIBRATION_BIN, HISTOGRAM_BIN, ROWS,
            SCORE_SUM, SCORE_SQUARES)


def count_rows(frame: pd.DataFrame, *, label: str, sensitive: Sequence[str],
               prediction: str = "", score: str = "", threshold: float = 0.5) -> pd.DataFrame:
    """One partition's count table: its rows counted per distinct key.

    The keys are the raw sensitive values, the raw label, and either the raw prediction or,
    for a score, whether it is a probability, its bins (AUC, calibration, histogram) and
    whether it reaches ``threshold`` (the predicted positive, decided per row as the row
    audit does). Missing values are keys of their own, so the checks after the sum see them.
    """
    keys = {column: frame[column] for column in sensitive}
    keys[LABEL] = frame[label]
    sums: dict[str, np.ndarray] = {}
    if prediction:
        keys[PREDICTION] = frame[prediction]
    else:
        values = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~((values >= 0) & (values <= 1))  # NaN fails both comparisons
        values = np.where(bad, 0.0, values)
        keys.update({BAD_SCORE: bad,
                     AUC_BIN: calibration_bins(values, AUC_BINS),
                     CALIBRATION_BIN: calibration_bins(values, N_CALIBRATION_BINS),
                     HISTOGRAM_BIN: calibration_bins(values, N_HISTOGRAM_BINS),
                     PREDICTION: (values >= threshold).astype(np.int64)})
        sums = {SCORE_SUM: values, SCORE_SQUARES: values * values}
    codes, uniques = zip(*(pd.factorize(pd.Series(value), use_na_sentinel=False)
                           for value in keys.values()), strict=True)
    combined = np.ravel_multi_index(codes, [max(len(unique), 1) for unique in uniques])
    present, inverse = np.unique(combined, return_inverse=True)
    parts = np.unravel_index(present, [max(len(unique), 1) for unique in uniques])
    table = pd.DataFrame({name: pd.Series(unique).take(part).reset_index(drop=True)
                          for name, unique, part in zip(keys, uniques, parts, strict=True)})
    table[ROWS] = np.bincount(inverse, minlength=len(present)).astype(np.int64)
    for name, value in sums.items():
        table[name] = np.bincount(inverse, weights=value, minlength=len(present))
    return table


def add_counts(*tables: pd.DataFrame) -> pd.DataFrame:
    """The count table of the partitions together: equal keys' counts and sums added."""
    together = pd.concat(tables, ignore_index=True)
    keys = [column for column in together.columns
            if column not in (ROWS, SCORE_SUM, SCORE_SQUARES)]
    return together.groupby(keys, dropna=False, sort=False, observed=True,
                            as_index=False).sum()


@dataclass(frozen=True)
class CountTable:
    """A :class:`twinaudit.fairness.audit.PredictionSource` over counted rows: each unit is
    one row of a count table (binary ``y_true`` / ``y_pred`` already decided)."""

    y_true: np.ndarray
    y_pred: np.ndarray
    rows: np.ndarray
    auc_bin: np.ndarray | None = None
    calibration_bin: np.ndarray | None = None
    histogram_bin: np.ndarray | None = None
    score_sum: np.ndarray | None = None
    score_squares: np.ndarray | None = None

    @property
    def has_scores(self) -> bool:
        return self.score_sum is not None

    @property
    def weighted(self) -> bool:
        return False

    def _index(self, grouping: Grouping) -> np.ndarray:
        bins = 0 if self.calibration_bin is None else self.calibration_bin
        return ((grouping.codes * N_CALIBRATION_BINS + bins) * 2 + self.y_true) * 2 + self.y_pred

    def _total(self, grouping: Grouping, values: np.ndarray) -> np.ndarray:
        shape = (grouping.n_groups, N_CALIBRATION_BINS, 2, 2)
        return np.bincount(self._index(grouping), weights=values,
                           minlength=int(np.prod(shape))).reshape(shape)

    def sums(self, grouping: Grouping) -> CellSums:
        rows = np.rint(self._total(grouping, self.rows)).astype(np.int64)
        weight = rows.astype(float)
        score = None if self.score_sum is None else self._total(grouping, self.score_sum)
        return CellSums(rows, weight, score, weight)

    def resample(self, grouping: Grouping, n_resamples: int,
                 random: np.random.Generator) -> CellSums:
        sums = self.sums(grouping)
        rows = sums.rows.reshape(grouping.n_groups, -1)
        moments = None
        if self.score_sum is not None and self.score_squares is not None:
            def cell_mean(total: np.ndarray) -> np.ndarray:
                total = total.reshape(rows.shape)
                return np.divide(total, rows, out=np.zeros_like(total), where=rows > 0)

            moments = (cell_mean(self._total(grouping, self.score_sum))[..., None],
                       cell_mean(self._total(grouping, self.score_squares))[..., None, None])
        return bootstrap_cells(rows, moments, weighted=False, scored=self.has_scores,
                               n_resamples=n_resamples, random_state=random)

    def roc_auc(self, grouping: Grouping) -> np.ndarray:
        assert self.auc_bin is not None, "an AUC needs scores"
        return group_roc_auc(grouping.codes, grouping.n_groups, self.y_true,
                             self.auc_bin.astype(np.float64), self.rows.astype(np.float64))

    def histogram(self, grouping: Grouping) -> np.ndarray:
        assert self.histogram_bin is not None, "a histogram needs scores"
        index = grouping.codes * N_HISTOGRAM_BINS + self.histogram_bin
        counts = np.bincount(index, weights=self.rows,
                             minlength=grouping.n_groups * N_HISTOGRAM_BINS)
        return np.rint(counts).astype(np.int64).reshape(grouping.n_groups, N_HISTOGRAM_BINS)
