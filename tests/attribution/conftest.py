"""Fixtures of the tabular attribution tests: Adult rows and an MLP sized to them."""

import pytest

from twinaudit.nets import MLPNetwork


@pytest.fixture(scope="module")
def adult_rows(small_dataset):
    return small_dataset.test.X[:300], small_dataset.train.X


@pytest.fixture(scope="module")
def adult_network(small_dataset):
    return MLPNetwork(n_inputs=small_dataset.train.X.shape[1], hidden=(16, 8))
