"""A prediction table in many parquet files (a folder, or a glob), read as counts.

``[data] dataset = "predictions"`` with ``path`` naming a folder of parquet files or a glob
(``"scores/part-*.parquet"``) is read with dask.dataframe, one partition at a time: each is
reduced to its count table (:func:`twinaudit.fairness.partitioned.count_rows`), the count
tables are added up in a tree of tasks on the run's engine, and the fairness audit runs on
the sum. Memory holds one partition per worker, never the table.

The checks a single file gets happen here too, before the expensive pass where they can (each
file's footer: every column named in ``[data]`` present, with one type across the files)
and on the summed counts after it (label and prediction values, missing values, scores in
[0, 1]), each one line naming the file or the folder. Row filters and ``bins`` need a pass of
their own over the rows and are refused for a partitioned table (filter or bin when writing
the partitions).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twinaudit.data.predictions import (
    checked_groups_and_label,
    predicted_positive_rows,
    table_summary,
)
from twinaudit.data.source import column_list
from twinaudit.engine import Engine
from twinaudit.errors import TwinauditError
from twinaudit.fairness.partitioned import (
    AUC_BIN,
    BAD_SCORE,
    CALIBRATION_BIN,
    HISTOGRAM_BIN,
    LABEL,
    PREDICTION,
    RESERVED,
    ROWS,
    SCORE_SQUARES,
    SCORE_SUM,
    CountTable,
    add_counts,
    count_rows,
)
from twinaudit.spec import AuditSpec

#: Count tables added per task of the reduction tree (a fixed tree: the same sum whatever
#: the schedule).
SPLIT_EVERY = 8


def is_partitioned(path: Path) -> bool:
    """A folder, or a glob pattern (``*``, ``?``, ``[``): many files, not one. A file that
    exists is one file, whatever its name holds."""
    return not path.is_file() and (path.is_dir() or glob.has_magic(str(path)))


def partition_files(path: Path) -> list[Path]:
    """The parquet files a folder (recursively) or a glob names, in a stable order."""
    if path.is_dir():
        files = sorted(file for file in path.rglob("*")
                       if file.is_file() and file.suffix.lower() in (".parquet", ".pq"))
    else:
        files = sorted(Path(name) for name in glob.glob(str(path), recursive=True)
                       if Path(name).is_file())
    if not files:
        raise TwinauditError(f"{path}: no parquet files found (expected a folder of .parquet "
                             "files, or a glob that matches some)")
    return files


@dataclass(frozen=True)
class CountedPredictions:
    """A partitioned table as the fairness audit reads it: its counts and the units' groups."""

    counts: CountTable
    groups: pd.DataFrame
    n_rows: int
    favourable_label: int
    summary: dict[str, Any]
    #: The summed count table as written to ``counts.parquet`` (every figure's source).
    table: pd.DataFrame


def check_partitioned(spec: AuditSpec, files: list[Path]) -> None:
    """Before any row is read: settings a count table cannot honour, and each file's columns
    and types from its footer."""
    import pyarrow.parquet as pq

    data, where = spec.data, spec.resolve(spec.data.path)
    if data.filters:
        raise TwinauditError(f"{spec.source}: [data] filters need the rows and are not "
                             f"supported for a partitioned table ({where}); filter the rows "
                             "when writing the partitions")
    if data.bins:
        raise TwinauditError(f"{spec.source}: [data] bins need the whole column and are not "
                             f"supported for a partitioned table ({where}); write the group "
                             "labels into the partitions")
    needed = [data.label, data.prediction or data.score, *data.sensitive_features]
    types: dict[str, tuple[Any, Path]] = {}
    for file in files:
        try:
            schema = pq.read_schema(file)
        except Exception as error:  # noqa: BLE001 - any unreadable footer is this one line
            raise TwinauditError(f"{file}: cannot be read as parquet "
                                 f"({str(error).splitlines()[0] if str(error) else error})"
                                 ) from None
        reserved = [name for name in schema.names if name in RESERVED]
        if reserved:
            raise TwinauditError(f"{file}: column '{reserved[0]}' has a name twinaudit's "
                                 "count table uses (rename it)")
        for column in needed:
            if column not in schema.names:
                raise TwinauditError(f"{file}: no column '{column}' (columns are: "
                                     f"{column_list(schema.names)})")
            kind = schema.field(column).type
            first = types.setdefault(column, (kind, file))
            if not _compatible(first[0], kind):
                raise TwinauditError(f"{file}: column '{column}' is {kind}, but {first[0]} in "
                                     f"{first[1]} (expected one type across the partitions)")


def _compatible(first: Any, other: Any) -> bool:
    import pyarrow as pa

    def family(kind: Any) -> str:
        if pa.types.is_dictionary(kind):
            return family(kind.value_type)
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            return "number"
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return "text"
        return str(kind)

    return family(first) == family(other)


def count_predictions(spec: AuditSpec, files: list[Path], engine: Engine) -> CountedPredictions:
    """Count the partitions ``files`` (checked by :func:`check_partitioned`) on the engine,
    and check what the counts show."""
    import dask
    import dask.dataframe as dd

    data = spec.data
    needed = list(dict.fromkeys([data.label, data.prediction or data.score,
                                 *data.sensitive_features]))
    frame = dd.read_parquet([str(file) for file in files], columns=needed)
    counted = [dask.delayed(count_rows)(partition, label=data.label,
                                        sensitive=list(data.sensitive_features),
                                        prediction=data.prediction, score=data.score,
                                        threshold=data.threshold)
               for partition in frame.to_delayed()]
    while len(counted) > 1:
        counted = [dask.delayed(add_counts)(*counted[start:start + SPLIT_EVERY])
                   for start in range(0, len(counted), SPLIT_EVERY)]
    table = engine.compute(counted[0])
    return _checked(spec, table, files)


def _checked(spec: AuditSpec, table: pd.DataFrame, files: list[Path]) -> CountedPredictions:
    data, where = spec.data, spec.resolve(spec.data.path)
    rows = table[ROWS].to_numpy()
    if not data.prediction and table[BAD_SCORE].any():
        bad = int(rows[table[BAD_SCORE].to_numpy(bool)].sum())
        raise TwinauditError(
            f"{_first_file_with_bad_score(files, data.score)}: score column '{data.score}' "
            f"holds values outside [0, 1] or missing ({bad:,} rows in {where}; expected "
            "probabilities in [0, 1]; for other scores use [data] prediction and "
            "predicted_positive)")
    if data.prediction and table[PREDICTION].isna().any():
        missing = int(rows[table[PREDICTION].isna().to_numpy()].sum())
        raise TwinauditError(f"{where}: prediction column '{data.prediction}' has {missing:,} "
                             "missing values (expected a prediction for every row)")
    # The intake's own checks, on the distinct values the counts keep.
    values = table.rename(columns={LABEL: data.label})
    outcome, groups = checked_groups_and_label(where, values, data)
    groups = groups.reset_index(drop=True)
    y_true = np.asarray(outcome.binary(values[data.label]), dtype=np.intp)
    if data.prediction:
        y_pred = predicted_positive_rows(where, table[PREDICTION], data.prediction,
                                     data.predicted_positive)
        counts = CountTable(y_true, np.asarray(y_pred, np.intp), rows)
    else:
        counts = CountTable(
            y_true, table[PREDICTION].to_numpy(np.intp), rows,
            auc_bin=table[AUC_BIN].to_numpy(np.intp),
            calibration_bin=table[CALIBRATION_BIN].to_numpy(np.intp),
            histogram_bin=table[HISTOGRAM_BIN].to_numpy(np.intp),
            score_sum=table[SCORE_SUM].to_numpy(np.float64),
            score_squares=table[SCORE_SQUARES].to_numpy(np.float64))
    summary = table_summary(spec, outcome, y_true, groups, rows)
    summary.update(partitions=len(files),
                   split="every row of every partition (nothing is trained, so nothing is "
                         "held out), read as counts")
    written = pd.concat([groups.add_prefix("group_"),
                         pd.DataFrame({"y_true": y_true, "y_pred": counts.y_pred,
                                       "rows": rows})], axis=1)
    if counts.has_scores:
        written = written.assign(score_bin=counts.auc_bin, score_sum=counts.score_sum)
    return CountedPredictions(counts, groups, int(rows.sum()), outcome.favourable_label,
                              summary, written)


def _first_file_with_bad_score(files: list[Path], column: str) -> Path:
    """The first partition holding a score outside [0, 1] (read only when there is one)."""
    for file in files:
        scores = pd.to_numeric(pd.read_parquet(file, columns=[column])[column],
                               errors="coerce").to_numpy(dtype=np.float64)
        if not ((scores >= 0) & (scores <= 1)).all():
            return file
    return files[0]


__all__ = ["CountedPredictions", "count_predictions", "is_partitioned", "partition_files"]
