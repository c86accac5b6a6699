"""The generic data set: the user's own CSV or parquet file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
    frame.columns = [str(column) for column in frame.columns]
    return frame


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
