"""Kamiran–Calders re-sampling: a training multiset in which the label is independent of the
group (Kamiran & Calders, "Data preprocessing techniques for classification without
discrimination", KAIS 2012, section 4.2).

Reweighing gives every (group, label) cell the weight ``P(g)·P(y) / P(g, y)``; re-sampling
reaches the same independence with whole rows instead: each cell is grown or shrunk to its
expected size under independence, ``n_g · n_y / n``. What comes out is a list of row indices
(some repeated, some left out) that both twins train on through the one shared schedule, so
the parity proof applies to the re-sampled twins unchanged.

Two ways to choose the rows:

- **uniform**: every row of a cell is equally likely to be repeated or left out;
- **preferential**: the rows nearest the decision boundary (by a ranker's scores) go first —
  a shrinking cell loses its borderline rows, a growing cell repeats them — so the rows that
  move the boundary most are the ones changed, and the confident ones are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from twinaudit.fairness.audit import (
    FairnessInputError,
    encode_groups,
    validate_binary,
    validate_scores,
    validate_sensitive_features,
)
from twinaudit.fairness.mitigation import mitigation_groups

Scheme = Literal["uniform", "preferential"]
SCHEMES: tuple[str, ...] = ("uniform", "preferential")


def expected_cell_sizes(labels: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups, 2) row counts a group-independent label would give each cell.

    Each group keeps its size: its positive count is ``round(n_g · n_1 / n)`` (halves to even,
    as numpy rounds) and the rest of its rows are negatives, so the group's base rate is the
    overall one to within ``1 / (2·n_g)``.
    """
    sizes = np.bincount(codes, minlength=n_groups)
    positives = np.rint(sizes * labels.mean()).astype(np.int64)
    return np.stack([sizes - positives, positives], axis=1)


def resampled_rows(
    y_true: Any,
    sensitive_features: pd.DataFrame,
    columns: Sequence[str],
    *,
    scheme: Scheme = "uniform",
    scores: Any = None,
    random_state: int = 0,
    min_group_size: int = 1,
) -> np.ndarray:
    """Row indices of the re-sampled training set (sorted; repeated rows repeat).

    Parameters
    ----------
    y_true : array-like of shape (n_rows,)
        Training labels in {0, 1}.
    sensitive_features : pandas.DataFrame
        Sensitive columns, rows aligned by position with ``y_true``.
    columns : sequence of str
        The group definition: one column, or several for their intersection.
    scheme : {"uniform", "preferential"}
        How a cell's rows are chosen (see the module's docstring).
    scores : array-like of shape (n_rows,), optional
        The ranker's score of the positive label for every row; required by "preferential".
        Ties are broken by row order.
    random_state : int, default 0
        Seeds the uniform scheme's choice of rows (preferential is deterministic).
    min_group_size : int, default 1
        Groups with fewer rows are re-sampled as one pooled group
        (:func:`twinaudit.fairness.mitigation.mitigation_groups`).

    Returns
    -------
    numpy.ndarray of int64
        As many indices as rows: each group keeps its size and its cells reach
        :func:`expected_cell_sizes`.

    Raises
    ------
    FairnessInputError
        If a (group, label) cell has no rows: there is nothing to repeat.
    """
    labels = validate_binary("y_true", y_true)
    frame = validate_sensitive_features(sensitive_features, len(labels))
    encode_groups(frame, list(columns))  # the checks of a grouping, with their messages
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if scheme == "preferential":
        if scores is None:
            raise ValueError("preferential re-sampling ranks rows by scores; none were given")
        scores = validate_scores(scores, len(labels))
    group_labels = mitigation_groups(frame, columns, min_group_size)[0]
    names, codes = np.unique(group_labels.astype(str), return_inverse=True)
    codes = codes.reshape(-1)
    targets = expected_cell_sizes(labels, codes, int(codes.max()) + 1)
    rng = np.random.default_rng(random_state)
    chosen = []
    for group, label in np.ndindex(targets.shape):
        rows = np.flatnonzero((codes == group) & (labels == label))
        target = int(targets[group, label])
        if not target:
            continue
        if not len(rows):
            # No row to repeat (reweighing refuses such a cell too: its weight is infinite).
            raise FairnessInputError(
                f"re-sampling on {'×'.join(columns)!r}: no training rows with "
                f"{str(names[group])!r} and y_true={label}; every (group, label) cell needs "
                "rows")
        if scheme == "uniform":
            chosen.append(_uniform(rows, target, rng))
        else:
            chosen.append(_preferential(rows, target, scores[rows], label))
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def _uniform(rows: np.ndarray, target: int, rng: np.random.Generator) -> np.ndarray:
    """``target`` rows of a cell, each row equally likely: every row ``target // n`` times,
    and ``target % n`` rows drawn without replacement once more."""
    repeats, extra = divmod(target, len(rows))
    return np.concatenate([np.repeat(rows, repeats), rng.choice(rows, extra, replace=False)])


def _preferential(rows: np.ndarray, target: int, scores: np.ndarray, label: int) -> np.ndarray:
    """``target`` rows of a cell, the ones nearest the boundary changed first.

    A positive row is borderline when its score is low, a negative one when it is high. A
    shrinking cell drops its most borderline rows; a growing one keeps every row and repeats
    the most borderline ones (cycling through the cell when it must more than double).
    """
    nearest_first = rows[np.argsort(scores if label == 1 else -scores, kind="stable")]
    if target <= len(rows):
        return nearest_first[len(rows) - target:]
    return np.concatenate([rows, np.resize(nearest_first, target - len(rows))])
