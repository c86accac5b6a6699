"""The data both twins see: float32 features, int labels, sensitive features beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Split:
    """One split of a data set, already preprocessed.

    Attributes
    ----------
    X : ndarray of shape (n_rows, *input_shape)
        Model inputs, identical for both frameworks: float32 features or images, or int32
        token ids.
    y : ndarray of shape (n_rows,), int64
        Class labels: {0, 1} for a binary data set (1 is the positive class), else
        0 .. n_classes − 1.
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
    """A preprocessed data set: train (preprocessing fitted here), validation and test.

    ``n_classes`` is 2 for binary labels; ``tokenizer`` is the text data sets' shared
    :class:`~twinaudit.data.text.Tokenizer` (for encoding new text, e.g. counterfactual
    templates), None otherwise.
    """

    name: str
    train: Split
    validation: Split
    test: Split
    feature_names: list[str]
    label_name: str
    positive_label: str
    #: The value of ``y`` that is the favourable outcome for the person (1 or 0).
    favourable_label: int = 1
    info: dict = field(default_factory=dict)
    n_classes: int = 2
    tokenizer: Any = field(default=None, repr=False, compare=False)

    def summary(self) -> dict:
        """Sizes, label balance and group sizes with base rates, for results.json."""
        splits = {"train": self.train, "validation": self.validation, "test": self.test}
        groups = {}
        binary = self.n_classes == 2
        for column in self.train.sensitive_features.columns:
            groups[column] = {
                split_name: group_table(split.sensitive_features[column], split.y, binary)
                for split_name, split in splits.items()
            }
        # A positive rate means nothing for ten classes: undefined (null), with the class count.
        classes = {} if binary else {"n_classes": self.n_classes}
        return {
            "name": self.name,
            "label": self.label_name,
            "positive_label": self.positive_label,
            "favourable_label": self.favourable_label,
            "rows": {name: len(split) for name, split in splits.items()},
            "positive_rate": {name: float(split.y.mean()) if binary else None
                              for name, split in splits.items()},
            # What always predicting the most frequent label scores: an accuracy that barely
            # beats it says the model learned little, whatever its other figures.
            "majority_class_rate": {name: float(np.bincount(split.y).max() / len(split.y))
                                    for name, split in splits.items()},
            "n_features": len(self.feature_names),
            "feature_names": list(self.feature_names),
            "sensitive_features": list(self.train.sensitive_features.columns),
            "groups": groups,
            **classes,
            **self.info,
        }


def group_table(column: pd.Series, y: np.ndarray, binary: bool = True) -> dict:
    frame = pd.DataFrame({"group": column.to_numpy(), "y": y})
    table = frame.groupby("group", sort=True)["y"].agg(["size", "mean"])
    return {
        str(group): {"count": int(row["size"]),
                     "base_rate": float(row["mean"]) if binary else None}
        for group, row in table.iterrows()
    }
