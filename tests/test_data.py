import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twinaudit.data import adult, build_dataset, load_dataset
from twinaudit.data.preprocess import TabularPreprocessor
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection, load_spec, spec_from_dict

REPO = Path(__file__).resolve().parents[1]


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


def test_a_corrupted_bundle_is_refused(monkeypatch):
    decompress = gzip.decompress
    monkeypatch.setattr(adult.gzip, "decompress", lambda packed: decompress(packed) + b"x")
    with pytest.raises(TwinauditError, match="sha256"):
        adult.read_bundled("adult.data")


def test_default_adult_dataset_splits_and_preprocesses_on_train_only():
    dataset = load_dataset(load_spec(REPO / "audits" / "adult.toml"))
    assert len(dataset.train) + len(dataset.validation) == 32_561
    assert len(dataset.test) == 16_281
    assert dataset.train.X.dtype == np.float32 and dataset.train.y.dtype == np.int64
    numeric = dataset.train.X[:, :5]
    # Standardised with the training split's own statistics...
    np.testing.assert_allclose(numeric.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(numeric.std(axis=0), 1, atol=1e-4)
    # ...and those of held-out rows differ, because they were not used for fitting.
    assert np.abs(dataset.test.X[:, :5].mean(axis=0)).max() > 1e-4
    assert list(dataset.test.sensitive_features.columns) == ["sex", "race"]
    assert "sex=Female" in dataset.feature_names
    assert set(np.unique(dataset.train.y)) == {0, 1}


def test_sensitive_features_can_be_kept_out_of_the_inputs(tmp_path):
    spec = spec_from_dict({"audit": {"name": "a"}, "data": {
        "dataset": "adult", "sensitive_as_inputs": False, "max_train_rows": 500,
        "max_test_rows": 100}}, source=tmp_path / "a.toml")
    dataset = load_dataset(spec)
    assert not any(name.startswith(("sex=", "race=")) for name in dataset.feature_names)
    assert set(dataset.test.sensitive_features["sex"]) == {"Female", "Male"}


def test_splits_are_seeded():
    spec = load_spec(REPO / "audits" / "adult.toml")
    first, second = load_dataset(spec), load_dataset(spec)
    np.testing.assert_array_equal(first.validation.row_id, second.validation.row_id)
    np.testing.assert_array_equal(first.train.X, second.train.X)


def test_preprocessor_one_hot_and_unseen_categories():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    preprocessor = TabularPreprocessor(["x"], ["colour"]).fit(frame)
    assert preprocessor.feature_names_ == ["x", "colour=blue", "colour=red"]
    encoded = preprocessor.transform(pd.DataFrame({"x": [2.0, np.nan], "colour": ["blue", "green"]}))
    np.testing.assert_allclose(encoded, [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])


def csv_section(path: Path, **overrides) -> DataSection:
    values = {"dataset": "csv", "path": str(path), "label": "outcome", "positive": "yes",
              "sensitive_features": ["group"], **overrides}
    return values


def load_csv(tmp_path: Path, frame_or_text, **overrides):
    path = tmp_path / "data.csv"
    if isinstance(frame_or_text, str):
        path.write_text(frame_or_text)
    else:
        frame_or_text.to_csv(path, index=False)
    spec = spec_from_dict({"audit": {"name": "c"}, "data": csv_section(path, **overrides)},
                          source=tmp_path / "c.toml")
    return load_dataset(spec)


def user_frame(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(18, 80, rows),
        "group": rng.choice(["a", "b"], rows),
        "city": rng.choice(["x", "y", "z"], rows),
        "outcome": rng.choice(["yes", "no"], rows),
    })


def test_csv_dataset_of_the_users_own(tmp_path):
    dataset = load_csv(tmp_path, user_frame())
    assert dataset.feature_names == ["age", "group=a", "group=b", "city=x", "city=y", "city=z"]
    assert len(dataset.train) + len(dataset.validation) + len(dataset.test) == 200


def test_parquet_dataset(tmp_path):
    path = tmp_path / "data.parquet"
    user_frame().to_parquet(path)
    spec = spec_from_dict({"audit": {"name": "p"}, "data": csv_section(path)},
                          source=tmp_path / "p.toml")
    assert load_dataset(spec).train.X.shape[1] == 6


@pytest.mark.parametrize("mutate, overrides, expected", [
    (lambda f: f.drop(columns="outcome"), {}, "no column 'outcome'"),
    (lambda f: f.drop(columns="group"), {}, "no sensitive column 'group'"),
    (lambda f: f.assign(outcome=np.resize(["yes", "no", "maybe"], len(f))), {},
     "must hold exactly two values"),
    (lambda f: f, {"positive": "true"}, "must hold exactly two values, one of them 'true'"),
])
def test_csv_bad_input_names_the_file_and_column(tmp_path, mutate, overrides, expected):
    with pytest.raises(TwinauditError) as error:
        load_csv(tmp_path, mutate(user_frame()), **overrides)
    assert expected in str(error.value)
    assert "data.csv" in str(error.value)


def test_empty_csv_is_a_clear_error(tmp_path):
    with pytest.raises(TwinauditError, match="empty"):
        load_csv(tmp_path, "")
    with pytest.raises(TwinauditError, match="no rows"):
        load_csv(tmp_path, "age,group,outcome\n")


def test_build_dataset_refuses_a_sensitive_label(tmp_path):
    source = adult.load_source()
    with pytest.raises(TwinauditError, match="cannot be sensitive"):
        build_dataset(source, DataSection(dataset="adult", sensitive_features=["income"]))
