"""The bundled 8×8 digits: channels-last images in [0, 1], the digit as the group."""

import numpy as np

from twinaudit.data import load_dataset

from helpers import shipped_spec


def test_digits_are_channels_last_images_in_unit_range_with_the_digit_as_group():
    dataset = load_dataset(shipped_spec("digits"))
    X = dataset.train.X
    assert X.shape[1:] == (8, 8, 1) and X.dtype == np.float32
    assert X.min() == 0 and X.max() == 1
    assert dataset.n_classes == 10 and set(dataset.test.y) == set(range(10))
    np.testing.assert_array_equal(dataset.test.sensitive_features["digit"],
                                  dataset.test.y.astype(str))
    total = len(dataset.train) + len(dataset.validation) + len(dataset.test)
    assert total == 1797
    summary = dataset.summary()
    assert summary["n_classes"] == 10 and summary["positive_rate"]["test"] is None


def test_digits_splits_are_seeded():
    first, second = (load_dataset(shipped_spec("digits")) for _ in range(2))
    np.testing.assert_array_equal(first.test.row_id, second.test.row_id)
    other = load_dataset(shipped_spec("digits", split_seed=1))
    assert not np.array_equal(first.test.row_id, other.test.row_id)
