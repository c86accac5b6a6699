"""Tabular preprocessing in numpy: one-hot encoding and standardisation.

Fitted on the training split only, then applied unchanged to validation and test, so no
statistic of held-out rows leaks into the inputs; the same float32 arrays go to both twins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class TabularPreprocessor:
    """One-hot encode categorical columns and standardise numeric ones.

    Parameters
    ----------
    numeric_columns, categorical_columns : list of str
        The input columns, in the order their features appear.

    Attributes
    ----------
    means_, scales_ : dict of str to float
        Per numeric column, learned by :meth:`fit`.
    categories_ : dict of str to list of str
        Per categorical column, the categories seen in training (sorted). A category unseen in
        training encodes as all zeros.
    feature_names_ : list of str
        ``column`` for numeric features, ``column=category`` for one-hot features.
    """

    def __init__(self, numeric_columns: list[str], categorical_columns: list[str]):
        self.numeric_columns = list(numeric_columns)
        self.categorical_columns = list(categorical_columns)

    def fit(self, frame: pd.DataFrame) -> TabularPreprocessor:
        self.means_, self.scales_ = {}, {}
        for column in self.numeric_columns:
            values = frame[column].to_numpy(dtype=np.float64)
            scale = np.nanstd(values) if np.isfinite(values).any() else 0.0
            self.means_[column] = float(np.nanmean(values)) if scale > 0 else 0.0
            # A constant column would divide by zero; leave it centred at zero instead.
            self.scales_[column] = float(scale) if scale > 0 else 1.0
        self.categories_ = {
            column: sorted(frame[column].astype(str).unique().tolist())
            for column in self.categorical_columns
        }
        self.feature_names_ = list(self.numeric_columns) + [
            f"{column}={category}"
            for column in self.categorical_columns
            for category in self.categories_[column]
        ]
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for column in self.numeric_columns:
            values = frame[column].to_numpy(dtype=np.float64)
            standardised = (values - self.means_[column]) / self.scales_[column]
            # A missing number becomes the training mean: zero after standardisation.
            blocks.append(np.nan_to_num(standardised, nan=0.0)[:, None])
        for column in self.categorical_columns:
            categories = self.categories_[column]
            codes = pd.Index(categories).get_indexer(frame[column].astype(str))
            one_hot = np.zeros((len(frame), len(categories)))
            seen = codes >= 0
            one_hot[np.flatnonzero(seen), codes[seen]] = 1.0
            blocks.append(one_hot)
        if not blocks:
            return np.zeros((len(frame), 0), dtype=np.float32)
        return np.hstack(blocks).astype(np.float32)
