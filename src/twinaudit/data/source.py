"""A raw table before preprocessing: what every data set loader returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class SourceTable:
    """Raw rows of a data set and which columns play which role.

    ``test`` is None when the source has no official test split; one is then drawn (seeded).
    ``origin`` names the file in error messages.
    """

    name: str
    train: pd.DataFrame
    test: pd.DataFrame | None
    label: str
    positive: str
    numeric_columns: list[str]
    categorical_columns: list[str]
    origin: str
    info: dict = field(default_factory=dict)


def column_list(columns: Iterable[object], limit: int = 20) -> str:
    """Column names for a one-line message: escaped where they hold a line break or another
    control character, and cut after ``limit`` names."""
    names = [str(name) if str(name).isprintable() else repr(str(name))[1:-1]
             for name in columns]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
