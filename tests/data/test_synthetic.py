"""The generated simplenet table: identical every time, with the bias it is built to have."""

import numpy as np
import pytest

from twinaudit.data import load_dataset, synthetic

from helpers import shipped_spec


def test_simplenet_data_is_generated_identically_and_follows_its_rules():
    first, second = synthetic.generate(), synthetic.generate()
    assert first.equals(second) and len(first) == synthetic.N_ROWS
    share_b = (first["group"] == "B").mean()
    assert 0.25 < share_b < 0.35
    # Group B's x1 is shifted by +0.8; at equal inputs B is less often positive (a logistic
    # fit recovers the generator's coefficients, −1 for the group).
    means = first.groupby("group")["x1"].mean()
    assert means["B"] - means["A"] == pytest.approx(0.8, abs=0.15)
    from sklearn.linear_model import LogisticRegression

    inputs = np.column_stack([first[synthetic.FEATURES], first["group"] == "B"])
    fitted = LogisticRegression(C=1e6).fit(inputs, first["outcome"] == "1")
    np.testing.assert_allclose(fitted.coef_[0], [1.5, -1.0, 0.5, -1.0], atol=0.3)


def test_simplenet_dataset_has_three_inputs_and_the_group_beside_them():
    dataset = load_dataset(shipped_spec("simplenet"))
    assert dataset.train.X.shape[1] == 3 and dataset.feature_names == ["x1", "x2", "x3"]
    assert list(dataset.train.sensitive_features.columns) == ["group"]
    assert sum(len(split) for split in (dataset.train, dataset.validation, dataset.test)) == 2000
