"""Tabular preprocessing: one-hot encoding and standardisation, fitted once."""

import numpy as np
import pandas as pd

from twinaudit.data.preprocess import TabularPreprocessor


def test_preprocessor_one_hot_and_unseen_categories():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    preprocessor = TabularPreprocessor(["x"], ["colour"]).fit(frame)
    assert preprocessor.feature_names_ == ["x", "colour=blue", "colour=red"]
    encoded = preprocessor.transform(
        pd.DataFrame({"x": [2.0, np.nan], "colour": ["blue", "green"]}))
    np.testing.assert_allclose(encoded, [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
