"""Profiling of a table of model inputs: the problems to catch before any training.

Three kinds of warning (:func:`input_warnings`), each a plain dict ``{"kind", "column",
"message"}`` so that it can go into results.json and the report as it is:

``id_like``
    A column with a distinct value on (nearly) every row — a name, a case number, a date, a
    row counter. A model can only memorise it; it does not generalise.
``many_levels``
    A categorical input with more than :data:`MANY_LEVELS` levels: one one-hot input per level,
    most of them seen on a handful of rows.
``leak``
    One input that on its own predicts the label almost perfectly (ROC AUC of at least
    :data:`LEAK_AUC`): usually the label recorded again under another name, or something
    known only after the outcome.

:func:`check_levels` is the hard stop behind ``many_levels``, and
:func:`numeric_sensitive_suggestion` suggests ``[data] bins`` for a numeric sensitive column.
Everything here is numpy and pandas, vectorised: a million rows of twenty columns take a
second or two.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from twinaudit.data.source import column_list
from twinaudit.errors import TwinauditError

#: A column is ID-like when at least this fraction of its values are distinct ...
ID_DISTINCT_FRACTION = 0.95
#: ... in a table of at least this many rows (a small table has few repeats anyway).
ID_MIN_ROWS = 50
#: A categorical input with more levels than this is warned about.
MANY_LEVELS = 100
#: An input whose ROC AUC on its own reaches this (either direction) is a suspected leak.
LEAK_AUC = 0.95
#: The hard limit of one-hot inputs all categorical inputs together may create. The
#: preprocessing builds a dense float matrix (rows × inputs): 5,000 inputs are 20 kB a row in
#: float32, so 100,000 training rows already take 2 GB, before the float64 copies the twin
#: proof makes; and an MLP's first layer of 64 units would hold 320,000 weights, most of them
#: for levels seen on a few rows. Past this, a column is an identifier or needs grouping.
MAX_ONE_HOT_INPUTS = 5_000
#: The seed of the cross-fitting halves of the categorical leak check (reproducible).
CROSS_FIT_SEED = 0


def input_warnings(frame: pd.DataFrame, y: np.ndarray, *, numeric: list[str],
                   categorical: list[str]) -> list[dict]:
    """Warnings about the model inputs of ``frame``, whose binary labels (0/1) are ``y``.

    The rules:

    * ``id_like``: in a table of at least :data:`ID_MIN_ROWS` rows, a categorical column with
      at least :data:`ID_DISTINCT_FRACTION` of its values distinct; a numeric column only when
      it is also integer-valued and a counter (in file order monotone, or its values dense:
      spanning at most twice as many integers as it has distinct values) — a continuous
      measurement is distinct per row without being an identifier.
    * ``many_levels``: a categorical column (not ID-like) with more than :data:`MANY_LEVELS`
      levels.
    * ``leak``: a column (not ID-like) whose ROC AUC against the label is at least
      :data:`LEAK_AUC`, taken as max(AUC, 1 − AUC). A numeric column is scored by its values
      (missing values tie below every number). A categorical column is scored by its levels'
      label rates, cross-fitted: the rows are split in two seeded halves and each half is
      scored with the rates of the other half (a level absent there gets that half's overall
      rate), so that a column with many rare levels cannot score 1.0 by memorising its rows.

    Returns the warnings in the order of the columns, ``numeric`` first.
    """
    y = np.asarray(y).astype(np.int64).ravel()
    if len(y) != len(frame):
        raise ValueError(f"y has {len(y)} labels for {len(frame)} rows")
    rows = len(frame)
    both_classes = rows > 0 and 0 < int(y.sum()) < rows
    halves = _halves(rows) if both_classes else None
    warnings: list[dict] = []
    for column in [*numeric, *categorical]:
        is_numeric = column in numeric
        series = frame[column]
        if is_numeric:
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            codes, levels = None, 0
            distinct = _distinct_numbers(values)
        else:
            codes, uniques = pd.factorize(series.astype(str), use_na_sentinel=False)
            levels = len(uniques)
            distinct = levels
        if rows >= ID_MIN_ROWS and distinct >= ID_DISTINCT_FRACTION * rows and (
                not is_numeric or _is_counter(values)):
            what = ("a row counter: a distinct whole number on each row" if is_numeric else
                    f"{distinct:,} distinct values in {rows:,} rows; one-hot encoding would make "
                    f"{levels:,} inputs")
            warnings.append(_warning(
                "id_like", column,
                f"column '{_name(column)}' looks like an identifier ({what}): a model can only "
                "memorise it; list it in drop_columns"))
            continue
        if not is_numeric and levels > MANY_LEVELS:
            warnings.append(_warning(
                "many_levels", column,
                f"categorical column '{_name(column)}' has {levels:,} levels, which one-hot "
                f"encoding makes {levels:,} model inputs: group its rare levels, or list it "
                "in drop_columns"))
        if halves is None:
            continue
        if is_numeric:
            score = np.where(np.isnan(values), -np.inf, values)
        else:
            assert codes is not None
            score = _cross_fitted_rates(codes, levels, y, halves)
        auc = roc_auc(score, y)
        auc = max(auc, 1.0 - auc)
        if auc >= LEAK_AUC:
            how = "by its values" if is_numeric else "by its levels' label rates, cross-fitted"
            warnings.append(_warning(
                "leak", column,
                f"column '{_name(column)}' alone predicts the label with ROC AUC {auc:.3f} "
                f"({how}): check that it is not the label or known only after the outcome; "
                "if so, list it in drop_columns"))
    return warnings


def check_levels(frame: pd.DataFrame, categorical: list[str], *, origin: str,
                 limit: int = MAX_ONE_HOT_INPUTS) -> None:
    """Refuse categorical inputs that together would create more than ``limit`` one-hot inputs
    (one per level, as the preprocessing does); the error names ``origin`` and the worst
    columns."""
    levels = {column: int(frame[column].astype(str).nunique(dropna=False))
              for column in categorical}
    total = sum(levels.values())
    if total <= limit:
        return
    worst = sorted(levels, key=lambda column: -levels[column])[:3]
    shown = ", ".join(f"'{column_list([column])}' ({levels[column]:,} levels)"
                      for column in worst)
    raise TwinauditError(
        f"{origin}: the categorical inputs would create {total:,} one-hot inputs (at most "
        f"{limit:,}), the most from {shown}; list such columns in drop_columns or group "
        "their levels")


#: A numeric sensitive column with more distinct values than this is cut into groups.
SENSITIVE_BIN_MIN_DISTINCT = 10


def numeric_sensitive_suggestion(series: pd.Series) -> list[float] | None:
    """Suggested inner bin edges (``[data] bins``) for a numeric sensitive column: its
    quartiles, rounded to two significant digits (three when two would merge edges), each
    strictly inside the column's range so that no group is empty. None for a column that is
    not numeric or has at most :data:`SENSITIVE_BIN_MIN_DISTINCT` distinct values (its
    values are the groups)."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    values = values[np.isfinite(values)]
    if len(np.unique(values)) <= SENSITIVE_BIN_MIN_DISTINCT:
        return None
    quartiles = np.quantile(values, [0.25, 0.5, 0.75])
    low, high = float(values.min()), float(values.max())
    best: list[float] = []
    for digits in (2, 3, 4):
        edges = sorted({_round_significant(float(q), digits) for q in quartiles})
        edges = [edge for edge in edges if low < edge <= high]
        if len(edges) > len(best):
            best = edges
        if len(best) == 3:
            break
    return best or None


def roc_auc(score: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of ``score`` for the binary labels ``y`` (the Mann–Whitney statistic, ties
    counted half); 0.5 when ``y`` holds one class."""
    score = np.asarray(score, dtype=np.float64)
    y = np.asarray(y).astype(bool)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    # Average ranks of tied scores, from one sort.
    order = np.argsort(score)
    ordered = score[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    average = (starts + ends + 1) / 2.0  # ranks start at 1
    ranks = np.empty(len(score))
    ranks[order] = np.repeat(average, ends - starts)
    rank_sum = float(ranks[y].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def _halves(rows: int) -> np.ndarray:
    """A seeded random half of the rows (True) and the other half (False)."""
    half = np.zeros(rows, dtype=bool)
    half[np.random.default_rng(CROSS_FIT_SEED).permutation(rows)[: rows // 2]] = True
    return half


def _cross_fitted_rates(codes: np.ndarray, levels: int, y: np.ndarray,
                        half: np.ndarray) -> np.ndarray:
    """Each row's level label rate, estimated on the other half of the rows."""
    score = np.empty(len(codes))
    for fit in (half, ~half):
        counts = np.bincount(codes[fit], minlength=levels)
        hits = np.bincount(codes[fit], weights=y[fit], minlength=levels)
        prior = float(y[fit].mean()) if fit.any() else 0.5
        rates = np.where(counts > 0, hits / np.maximum(counts, 1), prior)
        score[~fit] = rates[codes[~fit]]
    return score


def _distinct_numbers(values: np.ndarray) -> int:
    return int(pd.Series(values).nunique(dropna=False))  # hashing: no sort


def _is_counter(values: np.ndarray) -> bool:
    """Whole numbers counting rows: monotone in file order, or densely packed."""
    if np.isnan(values).any() or not np.all(np.isfinite(values)):
        return False
    if not np.array_equal(values, np.round(values)):
        return False
    distinct = int(pd.Series(values).nunique())
    steps = np.diff(values)
    if len(steps) and (np.all(steps > 0) or np.all(steps < 0)):
        return True
    span = float(values.max() - values.min()) + 1
    return span <= 2 * distinct


def _round_significant(value: float, digits: int) -> float:
    if value == 0:
        return 0.0
    exponent = math.floor(math.log10(abs(value)))
    rounded = round(value, digits - 1 - exponent)
    return float(rounded)


def _name(column: str) -> str:
    return column_list([column])


def _warning(kind: str, column: str, message: str) -> dict:
    return {"kind": kind, "column": str(column), "message": message}
