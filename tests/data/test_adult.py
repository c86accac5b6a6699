"""The bundled UCI Adult files: their rows, the known label disparity, the default data set."""

import numpy as np
import pytest

from twinaudit.data import adult, load_dataset
from twinaudit.spec import load_spec

from helpers import REPO


def test_bundled_adult_matches_published_checksums_and_row_counts():
    train = adult.parse(adult.read_bundled("adult.data"), is_test_file=False)
    test = adult.parse(adult.read_bundled("adult.test"), is_test_file=True)
    assert len(train) == 32_561 and len(test) == 16_281
    # The test file's labels lose their trailing dot.
    assert set(test["income"]) == {"<=50K", ">50K"}


def test_adult_reproduces_the_known_label_disparity():
    train = adult.parse(adult.read_bundled("adult.data"), is_test_file=False)
    rate = (train["income"] == ">50K").groupby(train["sex"]).mean()
    assert rate["Female"] == pytest.approx(0.109, abs=5e-4)
    assert rate["Male"] == pytest.approx(0.306, abs=5e-4)
    assert rate["Female"] - rate["Male"] == pytest.approx(-0.196, abs=1e-3)


def test_default_adult_dataset_splits_and_preprocesses_on_train_only():
    dataset = load_dataset(load_spec(REPO / "audits" / "adult.toml"))
    assert len(dataset.train) + len(dataset.validation) == 32_561
    assert len(dataset.test) == 16_281
    assert dataset.train.X.dtype == np.float32 and dataset.train.y.dtype == np.int64
    # (In float64: a float32 sum over 26k rows of a heavy-tailed column is off by ~1e-4.)
    numeric = dataset.train.X[:, :5].astype(np.float64)
    # Standardised with the training split's own statistics...
    np.testing.assert_allclose(numeric.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(numeric.std(axis=0), 1, atol=1e-4)
    # ...and those of held-out rows differ, because they were not used for fitting.
    assert np.abs(dataset.test.X[:, :5].mean(axis=0)).max() > 1e-4
    assert list(dataset.test.sensitive_features.columns) == ["sex", "race"]
    assert "sex=Female" in dataset.feature_names
    assert set(np.unique(dataset.train.y)) == {0, 1}
