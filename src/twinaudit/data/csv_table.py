"""The generic data set: the user's own CSV or parquet file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from twinaudit.data.source import SourceTable
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
        _check_header(path)
    frame.columns = [str(column) for column in frame.columns]
    return frame


def _check_header(path: Path) -> None:
    # pandas renames a repeated header to 'age.1' silently; a repeated label column would
    # then be a feature that leaks the label. The raw header row is read again to see it.
    header = pd.read_csv(path, header=None, nrows=1, skipinitialspace=True, dtype=str)
    names = [str(name).strip() for name in header.iloc[0]]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TwinauditError(f"{path}: column '{repeated[0]}' appears more than once in the "
                             "header (expected unique column names)")


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
    path: Path, *, label: str, positive: str, drop_columns: Sequence[str] = ()
) -> SourceTable:
    """A user's table as a :class:`SourceTable`; numeric dtypes are numeric inputs, the rest
    categorical."""
    frame = read_table(path)
    for column in [label, *drop_columns]:
        if column not in frame.columns:
            raise TwinauditError(
                f"{path}: no column '{column}' (columns are: {', '.join(frame.columns)})"
            )
    inputs = [c for c in frame.columns if c != label and c not in drop_columns]
    _check_values(path, frame, inputs)
    numeric = [c for c in inputs if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    categorical = [c for c in inputs if c not in numeric]
    for column in categorical:
        frame[column] = frame[column].where(frame[column].notna(), "Unknown").astype(str)
    return SourceTable(
        name=path.stem,
        train=frame,
        test=None,
        label=label,
        positive=positive,
        numeric_columns=numeric,
        categorical_columns=categorical,
        origin=str(path),
        info={"source": str(path)},
    )
