"""The tabular pipeline: a SourceTable split, preprocessed on the training split only, and its
label and column errors."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from twinaudit.data import SourceTable, adult, build_dataset, load_dataset
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection, load_spec, spec_from_dict

from helpers import REPO


def toy_frame(rows: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        # Skewed, so that the statistics of a part of the rows differ from all rows'.
        "x": rng.exponential(3.0, rows).round(2),
        "colour": rng.choice(["red", "blue"], rows),
        "group": rng.choice(["a", "b"], rows),
        "y": np.resize(["yes", "no", "no"], rows),
    })


def toy_source(train: pd.DataFrame, test: pd.DataFrame | None = None) -> SourceTable:
    return SourceTable(name="toy", train=train, test=test, label="y", positive="yes",
                       numeric_columns=["x"], categorical_columns=["colour", "group"],
                       origin="toy.csv")


SECTION = DataSection(dataset="csv", sensitive_features=["group"], test_fraction=0.25,
                      validation_fraction=0.2, split_seed=3)


def test_standardisation_uses_the_training_rows_statistics_only():
    frame = toy_frame()
    dataset = build_dataset(toy_source(frame), SECTION)
    assert dataset.feature_names == ["x", "colour=blue", "colour=red", "group=a", "group=b"]
    train_x = frame["x"].to_numpy()[dataset.train.row_id]
    mean, std = train_x.mean(), train_x.std()
    # The training rows are not all rows: fitting on all of them would give other numbers.
    assert abs(mean - frame["x"].mean()) > 1e-3
    for split in (dataset.train, dataset.validation, dataset.test):
        np.testing.assert_allclose(split.X[:, 0],
                                   (frame["x"].to_numpy()[split.row_id] - mean) / std,
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dataset.train.X[:, 0].mean(), 0, atol=1e-6)
    np.testing.assert_allclose(dataset.train.X[:, 0].std(), 1, atol=1e-5)
    # Labels: 1 for the positive value; the sensitive column beside the inputs, as text.
    for split in (dataset.train, dataset.validation, dataset.test):
        np.testing.assert_array_equal(split.y, frame["y"].to_numpy()[split.row_id] == "yes")
        np.testing.assert_array_equal(split.sensitive_features["group"],
                                      frame["group"].to_numpy()[split.row_id])


def test_the_splits_partition_the_rows_in_file_order_and_follow_the_seed():
    frame = toy_frame()
    dataset = build_dataset(toy_source(frame), replace(SECTION, stratify=False))
    ids = [dataset.train.row_id, dataset.validation.row_id, dataset.test.row_id]
    assert sorted(np.concatenate(ids)) == list(range(60))
    assert all((np.diff(part) > 0).all() for part in ids)       # file order within each
    assert len(dataset.test) == 15 and len(dataset.validation) == 9    # 0.25·60, 0.2·45
    again = build_dataset(toy_source(frame), replace(SECTION, stratify=False))
    np.testing.assert_array_equal(again.test.row_id, dataset.test.row_id)
    other = build_dataset(toy_source(frame), replace(SECTION, split_seed=4, stratify=False))
    assert not np.array_equal(other.test.row_id, dataset.test.row_id)


def test_categories_are_those_of_the_training_rows():
    train = toy_frame()
    test = toy_frame(20, seed=1)
    test.loc[:4, "colour"] = "purple"                 # never seen in training
    dataset = build_dataset(toy_source(train, test), SECTION)
    assert "colour=purple" not in dataset.feature_names
    # An official test file is kept whole (no rows drawn from the training file for it).
    np.testing.assert_array_equal(dataset.test.row_id, np.arange(20))
    colour = dataset.test.X[:, 1:3]
    np.testing.assert_array_equal(colour[:5], 0)      # the unseen category: all zeros
    assert (colour[5:].sum(axis=1) == 1).all()
    train_x = train["x"].to_numpy()[dataset.train.row_id]
    np.testing.assert_allclose(dataset.test.X[:, 0],
                               (test["x"].to_numpy() - train_x.mean()) / train_x.std(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("change, section, expected", [
    (lambda f: f.assign(y=f["y"].where(f.index != 3)), SECTION,
     "label column 'y' has missing values"),
    (lambda f: f.assign(y=np.resize(["maybe", "no", "no"], len(f))), SECTION,
     "label column 'y' must hold at least two values, one of them the positive 'yes' "
     "(found 2: maybe, no)"),
    (lambda f: f.assign(y="no"), SECTION, "must hold at least two values, one of them the "
     "positive 'yes' (found 1: no)"),
    (lambda f: f, DataSection(dataset="csv", sensitive_features=["y"]),
     "the label 'y' cannot be sensitive"),
    (lambda f: f, DataSection(dataset="csv", sensitive_features=["sex"]),
     "no sensitive column 'sex' (columns are: x, colour, group, y)"),
    (lambda f: f.head(3), SECTION, "split is empty (too few rows)"),
], ids=["missing_label", "no_positive", "one_label", "sensitive_label", "no_sensitive_column",
        "empty_split"])
def test_label_and_column_errors_name_the_source(change, section, expected):
    with pytest.raises(TwinauditError) as error:
        build_dataset(toy_source(change(toy_frame())), section)
    assert str(error.value).startswith("toy.csv: ")
    assert expected in str(error.value)


def test_sensitive_features_can_be_kept_out_of_the_inputs(tmp_path):
    spec = spec_from_dict({"audit": {"name": "a"}, "data": {
        "dataset": "adult", "sensitive_as_inputs": False, "max_train_rows": 500,
        "max_test_rows": 100}}, source=tmp_path / "a.toml")
    dataset = load_dataset(spec)
    assert not any(name.startswith(("sex=", "race=")) for name in dataset.feature_names)
    assert set(dataset.test.sensitive_features["sex"]) == {"Female", "Male"}


@pytest.mark.slow  # reads Adult three times (6 s)
def test_splits_are_seeded():
    spec = load_spec(REPO / "audits" / "adult.toml")
    first, second = load_dataset(spec), load_dataset(spec)
    np.testing.assert_array_equal(first.validation.row_id, second.validation.row_id)
    np.testing.assert_array_equal(first.train.X, second.train.X)


def test_build_dataset_refuses_a_sensitive_label(tmp_path):
    source = adult.load_source()
    with pytest.raises(TwinauditError, match="cannot be sensitive"):
        build_dataset(source, DataSection(dataset="adult", sensitive_features=["income"]))


def test_stratified_splits_hold_every_label_and_group_cell_out_in_proportion():
    # 2,000 rows with a 3 % group: unstratified draws give its validation share a wide spread;
    # stratified, every (label, group) cell is held out at floor(f·size + u), within a row.
    rng = np.random.default_rng(5)
    rows = 2000
    frame = pd.DataFrame({"x": rng.normal(size=rows),
                          "group": np.where(rng.random(rows) < 0.03, "small", "big"),
                          "y": np.where(rng.random(rows) < 0.3, "yes", "no")})
    source = SourceTable(name="toy", train=frame, test=None, label="y", positive="yes",
                         numeric_columns=["x"], categorical_columns=["group"], origin="toy.csv")
    for seed in range(5):
        dataset = build_dataset(source, replace(SECTION, split_seed=seed))
        test_rows = frame.iloc[dataset.test.row_id]
        for (label, group), cell in frame.groupby(["y", "group"]):
            held = ((test_rows["y"] == label) & (test_rows["group"] == group)).sum()
            assert abs(held - 0.25 * len(cell)) < 1, (label, group, held, len(cell))
    ids = [dataset.train.row_id, dataset.validation.row_id, dataset.test.row_id]
    assert sorted(np.concatenate(ids)) == list(range(rows))


def test_a_label_of_three_values_is_positive_against_the_rest_and_says_so():
    frame = toy_frame().assign(y=np.resize(["yes", "no", "maybe"], 60))
    dataset = build_dataset(toy_source(frame), SECTION)
    np.testing.assert_array_equal(dataset.test.y,
                                  frame["y"].to_numpy()[dataset.test.row_id] == "yes")
    assert dataset.info["one_vs_rest"] == {"positive": "yes", "rest": ["maybe", "no"]}
    assert dataset.favourable_label == 1
    # The rest can be the favourable outcome (a harmful positive), by the word "rest".
    harmful = build_dataset(toy_source(frame), replace(SECTION, favourable="rest"))
    assert harmful.favourable_label == 0 and harmful.info["favourable"] == "rest"


def test_favourable_names_the_good_outcome_of_a_binary_label():
    frame = toy_frame()
    dataset = build_dataset(toy_source(frame), replace(SECTION, favourable="no"))
    assert dataset.favourable_label == 0 and dataset.summary()["favourable_label"] == 0
    # y stays 1 for the positive value: only which outcome counts as good changes.
    np.testing.assert_array_equal(dataset.test.y,
                                  frame["y"].to_numpy()[dataset.test.row_id] == "yes")
    with pytest.raises(TwinauditError, match="favourable = 'perhaps' is not an outcome"):
        build_dataset(toy_source(frame), replace(SECTION, favourable="perhaps"))


def test_numeric_sensitive_columns_need_bins_and_are_cut_by_edges_or_quantiles():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"age": rng.integers(18, 90, 400).astype(float),
                          "y": rng.choice(["yes", "no"], 400)})
    frame.loc[7, "age"] = np.nan
    source = SourceTable(name="toy", train=frame, test=None, label="y", positive="yes",
                         numeric_columns=["age"], categorical_columns=[], origin="toy.csv")
    section = replace(SECTION, sensitive_features=["age"])
    with pytest.raises(TwinauditError) as error:
        build_dataset(source, section)
    message = str(error.value)
    assert message.startswith("toy.csv: sensitive column 'age' is numeric with ")
    assert "give [data] bins, e.g. bins = {age = [" in message and "{age = 4}" in message

    edges = build_dataset(source, replace(section, bins={"age": [30, 60]}))
    groups = pd.concat([edges.train.sensitive_features, edges.validation.sensitive_features,
                        edges.test.sensitive_features])["age"]
    rows = np.concatenate([edges.train.row_id, edges.validation.row_id, edges.test.row_id])
    age = frame["age"].to_numpy()[rows]
    expected = np.select([np.isnan(age), age < 30, age < 60], ["Unknown", "<30", "[30, 60)"],
                         ">=60")
    np.testing.assert_array_equal(groups.to_numpy(), expected)
    # The age itself stays an input, unbinned.
    assert edges.feature_names == ["age"] and edges.info["bins"] == {"age": [30.0, 60.0]}

    quartiles = build_dataset(source, replace(section, bins={"age": 4}))
    cut = quartiles.info["bins"]["age"]
    np.testing.assert_allclose(cut, np.nanquantile(frame["age"], [0.25, 0.5, 0.75]))
    counts = quartiles.summary()["groups"]["age"]
    sizes = {group: sum(split[group]["count"] for split in counts.values() if group in split)
             for group in counts["train"]}
    assert all(80 <= size <= 120 for group, size in sizes.items() if group != "Unknown")
