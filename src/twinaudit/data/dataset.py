"""The data both twins see: float32 features, int labels, sensitive features beside them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Split:
    """One split of a data set, already preprocessed.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features), float32
        Model inputs, identical for both frameworks.
    y : ndarray of shape (n_rows,), int64
        Binary labels in {0, 1}; 1 is the positive class.
    sensitive_features : DataFrame
        The sensitive columns as strings, one row per row of ``X``, kept whether or not they
        are also model inputs.
    row_id : ndarray of shape (n_rows,), int64
        The row's position in its source file, so predictions can be traced back.
    """

    X: np.ndarray
    y: np.ndarray
    sensitive_features: pd.DataFrame
    row_id: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Dataset:
    """A preprocessed data set: train (preprocessing fitted here), validation and test."""

    name: str
    train: Split
    validation: Split
    test: Split
    feature_names: list[str]
    label_name: str
    positive_label: str
    info: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Sizes, label balance and group sizes with base rates, for results.json."""
        splits = {"train": self.train, "validation": self.validation, "test": self.test}
        groups = {}
        for column in self.train.sensitive_features.columns:
            groups[column] = {
                split_name: _group_table(split.sensitive_features[column], split.y)
                for split_name, split in splits.items()
            }
        return {
            "name": self.name,
            "label": self.label_name,
            "positive_label": self.positive_label,
            "rows": {name: len(split) for name, split in splits.items()},
            "positive_rate": {name: float(split.y.mean()) for name, split in splits.items()},
            "n_features": len(self.feature_names),
            "feature_names": list(self.feature_names),
            "sensitive_features": list(self.train.sensitive_features.columns),
            "groups": groups,
            **self.info,
        }


def _group_table(column: pd.Series, y: np.ndarray) -> dict:
    frame = pd.DataFrame({"group": column.to_numpy(), "y": y})
    table = frame.groupby("group", sort=True)["y"].agg(["size", "mean"])
    return {
        str(group): {"count": int(row["size"]), "base_rate": float(row["mean"])}
        for group, row in table.iterrows()
    }
