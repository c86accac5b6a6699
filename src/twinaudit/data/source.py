"""A raw table before preprocessing: what every data set loader returns."""

from __future__ import annotations

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
