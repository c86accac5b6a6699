"""The generic data set: the user's own CSV or parquet file."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twinaudit.data.source import SourceTable, column_list
from twinaudit.errors import TwinauditError


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or parquet file, with one-line errors for the usual ways this fails."""
    if path.is_dir():
        raise TwinauditError(f"{path}: is a directory (expected a CSV or parquet file)")
    if not path.is_file():
        raise TwinauditError(f"{path}: data file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise TwinauditError(f"{path}: the file is empty (expected a header and rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TwinauditError(f"{path}: cannot be read as a table ({first_line})") from None
    if frame.empty:
        raise TwinauditError(f"{path}: the file has no rows (expected a header and rows)")
    if path.suffix.lower() not in (".parquet", ".pq"):
        # pandas renames a repeated header to 'age.1' silently; a repeated label column
        # would then be a feature that leaks the label. The raw header row is read again,
        # and the columns keep the names the file gives them.
        header = pd.read_csv(path, header=None, nrows=1, skipinitialspace=True, dtype=str)
        raw = [str(name).strip() for name in header.iloc[0]]
        if len(raw) == len(frame.columns):  # else a header pandas read its own way
            frame.columns = raw
    frame.columns = [str(column) for column in frame.columns]
    return frame


def unrepeated(path: Path, frame: pd.DataFrame, used: Sequence[str],
               keep_list: bool) -> pd.DataFrame:
    """The table without its repeated columns, or an error when one of them is ambiguous.

    Copies that hold the same values in every row are one column (ProPublica's COMPAS file
    repeats ``priors_count`` so): the first is kept. Copies that differ cannot say which is
    meant: that is an error when the audit uses the column, or when every column is an input
    (no ``features`` keep-list); with a keep-list that leaves it out, every copy is dropped.
    """
    names = list(frame.columns)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not repeated:
        return frame
    keep = np.ones(len(names), dtype=bool)
    for name in repeated:
        positions = [i for i, column in enumerate(names) if column == name]
        copies = [frame.iloc[:, i] for i in positions]
        if all(copy.equals(copies[0]) for copy in copies[1:]):
            keep[positions[1:]] = False
            continue
        if name in used or not keep_list:
            hint = "" if name in used else (
                f"; a [data] features keep-list that leaves out '{column_list([name])}' "
                "drops every copy")
            raise TwinauditError(f"{path}: column '{column_list([name])}' appears "
                                 f"{len(positions)} times in the header with different "
                                 f"values (expected unique column names{hint})")
        keep[positions] = False
    return frame.loc[:, keep]


def filtered(path: Path, frame: pd.DataFrame, filters: Sequence[Mapping[str, Any]]
              ) -> pd.DataFrame:
    """The rows every ``[data] filters`` entry keeps (``{column, op, value}``, all of them)."""
    keep = pd.Series(True, index=frame.index)
    for number, entry in enumerate(filters, start=1):
        column, op, value = entry["column"], entry["op"], entry["value"]
        if column not in frame.columns:
            raise TwinauditError(f"{path}: filter {number} names no column '{column}' "
                                 f"(columns are: {column_list(frame.columns)})")
        series = frame[column]
        numeric = pd.api.types.is_numeric_dtype(series) and \
            not pd.api.types.is_bool_dtype(series)
        values = value if isinstance(value, list) else [value]
        if numeric and not all(isinstance(v, int | float) and not isinstance(v, bool)
                               for v in values):
            raise TwinauditError(f"{path}: filter {number} compares numeric column "
                                 f"'{column}' with {value!r} (expected a number)")
        if not numeric:
            # A missing cell (empty, or a marker pandas reads as missing: NA, N/A, null ...)
            # compares as the empty text, never as the word 'nan'.
            series = series.where(series.notna(), "").astype(str).str.strip()
            values = [str(v) for v in values]
        keep &= FILTER_OPERATIONS[op](series, values)
    kept = frame[keep.to_numpy()].reset_index(drop=True)
    if kept.empty:
        raise TwinauditError(f"{path}: the [data] filters keep no rows (of {len(frame)})")
    return kept


#: What each filter operation keeps; ``in``/``not in`` take a list, the others one value.
FILTER_OPERATIONS: dict[str, Callable[[pd.Series, list], pd.Series]] = {
    "==": lambda series, values: series == values[0],
    "!=": lambda series, values: series != values[0],
    "<": lambda series, values: series < values[0],
    "<=": lambda series, values: series <= values[0],
    ">": lambda series, values: series > values[0],
    ">=": lambda series, values: series >= values[0],
    "in": lambda series, values: series.isin(values),
    "not in": lambda series, values: ~series.isin(values),
}


def _check_values(path: Path, frame: pd.DataFrame, inputs: Sequence[str]) -> None:
    """Refuse the two ways a numeric column goes wrong silently: inf, and a few stray words.

    A number beyond float range ('1e400') reads as inf; one 'abc' among numbers makes pandas
    read the whole column as text, which would then be one-hot encoded value by value.
    """
    for column in inputs:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            infinite = np.isinf(series.to_numpy(dtype=np.float64))
            if infinite.any():
                raise TwinauditError(
                    f"{path}: column '{column}' holds an infinite value at data row "
                    f"{int(np.argmax(infinite)) + 1} (expected finite numbers)")
            continue
        present = series.dropna()
        as_numbers = pd.to_numeric(present, errors="coerce")
        stray = present[as_numbers.isna()]
        if len(present) and 0 < len(stray) <= NUMERIC_STRAY_FRACTION * len(present):
            raise TwinauditError(
                f"{path}: column '{column}' is numeric but for {len(stray)} value(s) such as "
                f"{str(stray.iloc[0])!r} at data row {int(stray.index[0]) + 1} (fix them, or "
                "list the column in drop_columns)")


#: A text column whose values are numbers but for at most this fraction is taken as a
#: numeric column with typos, not as categories.
NUMERIC_STRAY_FRACTION = 0.05


def load_source(
    path: Path, *, label: str, positive: str, drop_columns: Sequence[str] = (),
    features: Sequence[str] = (), sensitive: Sequence[str] = (),
    filters: Sequence[Mapping[str, Any]] = (),
) -> SourceTable:
    """A user's table as a :class:`SourceTable`; numeric dtypes are numeric inputs, the rest
    categorical.

    ``features`` is a keep-list of input columns (the label and the sensitive columns are kept
    beside it); otherwise every column but the label and ``drop_columns`` is an input.
    ``filters`` keep the rows that pass every one of them, before anything else.
    """
    frame = read_table(path)
    frame = unrepeated(path, frame, [label, *sensitive, *features,
                                      *(entry["column"] for entry in filters)],
                        keep_list=bool(features))
    for column in [label, *drop_columns, *features]:
        if column not in frame.columns:
            raise TwinauditError(
                f"{path}: no column '{column}' (columns are: {column_list(frame.columns)})"
            )
    rows_read = len(frame)
    frame = filtered(path, frame, filters)
    if features:
        if label in features:
            raise TwinauditError(f"{path}: [data] features lists the label '{label}' (it would "
                                 "be an input that gives the answer away)")
        # A missing sensitive column is left for the data set's own check to name.
        frame = frame[[column for column in dict.fromkeys([*features, *sensitive, label])
                       if column in frame.columns]]
    inputs = [c for c in frame.columns if c != label and c not in drop_columns]
    _check_values(path, frame, inputs)
    numeric = [c for c in inputs if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    categorical = [c for c in inputs if c not in numeric]
    for column in categorical:
        frame[column] = frame[column].where(frame[column].notna(), "Unknown").astype(str)
    info: dict[str, Any] = {"source": str(path)}
    if filters:
        info["filters"] = [dict(entry) for entry in filters]
        info["rows_before_filters"] = rows_read
        info["rows_after_filters"] = len(frame)
    return SourceTable(
        name=path.stem,
        train=frame,
        test=None,
        label=label,
        positive=positive,
        numeric_columns=numeric,
        categorical_columns=categorical,
        origin=str(path),
        info=info,
    )
