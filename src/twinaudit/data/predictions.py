"""The "predictions" data set: a table of predictions made elsewhere, audited without training.

Any model's decisions can be audited for group fairness from a CSV or parquet file that holds,
per person, the true label, the sensitive columns and either the predicted label or a score.
The table goes through the same intake as the ``csv`` data set — repeated headers, row
filters, label and favourable-outcome checks, bins for numeric sensitive columns — and then
straight to the fairness audit: nothing is trained and no framework is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twinaudit.data.csv_table import filtered, read_table, unrepeated
from twinaudit.data.dataset import group_table
from twinaudit.data.source import SourceTable, column_list
from twinaudit.data.tabular import LabelOutcome, check_groups_column, group_columns, label_outcome
from twinaudit.errors import TwinauditError
from twinaudit.spec import AuditSpec, DataSection

#: The name the audited model goes by where twins have a framework's name.
MODEL = "model"


@dataclass(frozen=True)
class PredictionTable:
    """The audited predictions, one row per person.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``row_id``, ``y_true``, ``y_pred`` (1 = predicted positive), ``score`` when the table
        has scores, and one group label column per sensitive feature.
    favourable_label : int
        The value of ``y_true`` / ``y_pred`` that is the favourable outcome (1 or 0).
    summary : dict
        The ``data`` section of results.json.
    """

    frame: pd.DataFrame
    favourable_label: int
    summary: dict[str, Any]

    @property
    def has_scores(self) -> bool:
        return "score" in self.frame.columns


def load_predictions(spec: AuditSpec) -> PredictionTable:
    """Read, filter and check a prediction table as ``[data]`` describes it."""
    data = spec.data
    path = spec.resolve(data.path)
    predicted = data.prediction or data.score
    frame = read_table(path)
    used = [data.label, predicted, *data.sensitive_features,
            *(entry["column"] for entry in data.filters)]
    frame = unrepeated(path, frame, used, keep_list=True)
    for column in [data.label, predicted, *data.sensitive_features]:
        if column not in frame.columns:
            raise TwinauditError(
                f"{path}: no column '{column}' (columns are: {column_list(frame.columns)})")
    rows_read = len(frame)
    frame = filtered(path, frame, data.filters)
    outcome, groups = checked_groups_and_label(path, frame, data)

    table = pd.DataFrame({"row_id": np.arange(len(frame)),
                          "y_true": outcome.binary(frame[data.label])})
    if data.prediction:
        table["y_pred"] = predicted_positive_rows(path, frame[data.prediction], data.prediction,
                                              data.predicted_positive)
    else:
        scores = _scores(path, frame[data.score], data.score)
        table["score"] = scores
        table["y_pred"] = (scores >= data.threshold).astype(np.int64)
    table = pd.concat([table, groups], axis=1)

    summary = table_summary(spec, outcome, table["y_true"].to_numpy(), table)
    if data.filters:
        summary.update(filters=[dict(entry) for entry in data.filters],
                       rows_before_filters=rows_read, rows_after_filters=len(table))
    return PredictionTable(table, outcome.favourable_label, summary)


def checked_groups_and_label(path: Path, frame: pd.DataFrame,
                             data: DataSection) -> tuple[LabelOutcome, pd.DataFrame]:
    """The sensitive columns' groups and the label's outcome, checked as the ``csv`` intake
    checks them (two groups per column, the positive and favourable values present). Only
    distinct values matter, so ``frame`` may hold rows or a count table's distinct keys."""
    source = SourceTable(name=path.stem, train=frame, test=None, label=data.label,
                         positive=data.positive, numeric_columns=[], categorical_columns=[],
                         origin=str(path))
    for column in data.sensitive_features:
        check_groups_column(source, column)
    return label_outcome(source, data), group_columns(frame, source, data)


def table_summary(spec: AuditSpec, outcome: LabelOutcome, y: np.ndarray, groups: pd.DataFrame,
                  rows: np.ndarray | None = None) -> dict[str, Any]:
    """The ``data`` section of a prediction-table run: ``y`` and ``groups`` per row, or per
    counted unit standing for ``rows`` rows each (a partitioned table's count table)."""
    data = spec.data
    if rows is None:
        n_rows, positive = len(y), float(y.mean())
        majority = float(np.bincount(y).max() / len(y))
        tables = {column: group_table(groups[column], y) for column in data.sensitive_features}
    else:
        n_rows = int(rows.sum())
        positive = float((rows * y).sum() / n_rows)
        majority = float(np.bincount(y, weights=rows).max() / n_rows)
        tables = {column: _counted_group_table(groups[column], y, rows)
                  for column in data.sensitive_features}
    return {
        "name": Path(data.path).stem, "label": data.label, "positive_label": data.positive,
        "favourable_label": outcome.favourable_label, **outcome.info,
        "rows": {"test": n_rows},
        "positive_rate": {"test": positive},
        "majority_class_rate": {"test": majority},
        "sensitive_features": list(data.sensitive_features),
        "groups": {column: {"test": table} for column, table in tables.items()},
        "source": str(spec.resolve(data.path)),
        "predictions": ({"column": data.prediction,
                         "predicted_positive": list(data.predicted_positive)}
                        if data.prediction else
                        {"score": data.score, "threshold": data.threshold}),
        "split": "every row of the prediction table (nothing is trained, so nothing is held "
                 "out)",
    }


def _counted_group_table(column: pd.Series, y: np.ndarray, rows: np.ndarray) -> dict:
    frame = pd.DataFrame({"group": column.to_numpy(), "rows": rows, "positive": rows * y})
    table = frame.groupby("group", sort=True)[["rows", "positive"]].sum()
    return {str(group): {"count": int(row["rows"]),
                         "base_rate": float(row["positive"] / row["rows"])}
            for group, row in table.iterrows()}


def predicted_positive_rows(path: Any, column: pd.Series, name: str,
                        positive_values: list[str]) -> np.ndarray:
    if column.isna().any():
        row = int(np.argmax(column.isna().to_numpy())) + 1
        raise TwinauditError(f"{path}: prediction column '{name}' has a missing value at data "
                             f"row {row} (expected a prediction for every row)")
    text = column.astype(str).str.strip()
    present = set(text.unique())
    unknown = [value for value in positive_values if value not in present]
    if unknown:
        raise TwinauditError(
            f"{path}: [data] predicted_positive value '{unknown[0]}' does not occur in column "
            f"'{name}' (values are: {', '.join(sorted(present)[:10])})")
    return text.isin(positive_values).to_numpy(dtype=np.int64)


def _scores(path: Any, column: pd.Series, name: str) -> np.ndarray:
    scores = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~((scores >= 0) & (scores <= 1))  # NaN fails both comparisons
    if bad.any():
        row = int(np.argmax(bad))
        raise TwinauditError(
            f"{path}: score column '{name}' holds {column.iloc[row]!r} at data row {row + 1} "
            "(expected probabilities in [0, 1]; for other scores use [data] prediction and "
            "predicted_positive)")
    return scores
