"""The user's own CSV or parquet file as a data set, and its errors naming file and column."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twinaudit.data import load_dataset
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection, SpecError, spec_from_dict


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
    (lambda f: f.assign(outcome=np.resize(["yes", "no", "maybe"], len(f))),
     {"favourable": "no"}, "[data] favourable = 'no' is not an outcome of label 'outcome' "
     "(expected one of: yes, rest)"),
    (lambda f: f, {"positive": "true"},
     "must hold at least two values, one of them the positive 'true'"),
    (lambda f: f.assign(age=[*f["age"][:-1], "abc"]), {},
     "column 'age' is numeric but for 1 value(s) such as 'abc' at data row 200"),
    (lambda f: f.assign(age=np.where(np.arange(len(f)) == 3, np.inf, f["age"])), {},
     "column 'age' holds an infinite value at data row 4"),
    (lambda f: f.assign(group=np.nan), {},
     "sensitive column 'group' has only missing values (expected at least two groups)"),
    (lambda f: f.assign(group="a"), {},
     "sensitive column 'group' holds one group only ('a'; expected at least two groups"),
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


@pytest.mark.parametrize("header", ["age,group,outcome,outcome", "age,group,age,outcome"])
def test_a_repeated_header_is_refused_not_renamed(tmp_path, header):
    # pandas would read the second one as 'outcome.1': a feature that is the label.
    rows = "\n".join(f"{20 + i},{'ab'[i % 2]},{30 + i},{('yes', 'no')[i % 2]}"
                      for i in range(40))
    with pytest.raises(TwinauditError, match=r"appears 2 times in the header with different "
                                             r"values \(expected unique"):
        load_csv(tmp_path, f"{header}\n{rows}\n")


def test_a_column_of_words_with_a_few_numbers_stays_categorical(tmp_path):
    frame = user_frame()
    frame["city"] = np.resize(["x", "y", "7"], len(frame))
    assert "city=7" in load_csv(tmp_path, frame).feature_names


# -- features keep-list, filters, repeated headers ---------------------------------------------

def test_a_features_keep_list_keeps_the_label_and_sensitive_columns_beside_it(tmp_path):
    dataset = load_csv(tmp_path, user_frame(), features=["age"])
    # group is sensitive (kept, and an input by default), city is left out.
    assert dataset.feature_names == ["age", "group=a", "group=b"]
    with pytest.raises(TwinauditError, match="features lists the label 'outcome'"):
        load_csv(tmp_path, user_frame(), features=["age", "outcome"])
    with pytest.raises(TwinauditError, match="no column 'height'"):
        load_csv(tmp_path, user_frame(), features=["height"])


def test_a_repeated_column_left_out_by_the_keep_list_is_dropped_every_copy(tmp_path):
    # COMPAS repeats decile_score and priors_count; pandas would keep 'decile_score.1'.
    rows = "\n".join(f"{20 + i},{'ab'[i % 2]},{i % 10},{i % 7},{('yes', 'no')[i % 2]}"
                     for i in range(60))
    text = f"age,group,score,score,outcome\n{rows}\n"
    dataset = load_csv(tmp_path, text, features=["age"])
    assert dataset.feature_names == ["age", "group=a", "group=b"]
    with pytest.raises(TwinauditError, match="column 'score' appears 2 times in the header"):
        load_csv(tmp_path, text)  # every column an input: which copy?
    with pytest.raises(TwinauditError, match="column 'score' appears 2 times"):
        load_csv(tmp_path, text, features=["age", "score"])


def test_repeated_copies_with_the_same_values_are_one_column(tmp_path):
    # As COMPAS's two priors_count columns: the same numbers, so no copy can be the wrong one.
    rows = "\n".join(f"{20 + i},{'ab'[i % 2]},{i % 10},{i % 10},{('yes', 'no')[i % 2]}"
                     for i in range(60))
    dataset = load_csv(tmp_path, f"age,group,score,score,outcome\n{rows}\n")
    assert dataset.feature_names == ["age", "score", "group=a", "group=b"]
    # A copied label is the label once, never an input.
    rows = "\n".join(f"{20 + i},{'ab'[i % 2]},{('yes', 'no')[i % 3 == 0]},"
                     f"{('yes', 'no')[i % 3 == 0]}" for i in range(60))
    dataset = load_csv(tmp_path, f"age,group,outcome,outcome\n{rows}\n")
    assert dataset.feature_names == ["age", "group=a", "group=b"]


def test_filters_keep_the_rows_every_filter_passes_and_record_them(tmp_path):
    frame = user_frame(400)
    filters = [{"column": "age", "op": ">=", "value": 30},
               {"column": "city", "op": "in", "value": ["x", "y"]},
               {"column": "city", "op": "!=", "value": "y"}]
    dataset = load_csv(tmp_path, frame, filters=filters)
    expected = frame[(frame.age >= 30) & (frame.city == "x")]
    kept = len(dataset.train) + len(dataset.validation) + len(dataset.test)
    assert kept == len(expected) and 0 < kept < 400
    assert dataset.info["rows_before_filters"] == 400
    assert dataset.info["rows_after_filters"] == len(expected)
    assert dataset.info["filters"] == filters


@pytest.mark.parametrize("filters, message", [
    ([{"column": "height", "op": "==", "value": 1}], "filter 1 names no column 'height'"),
    ([{"column": "age", "op": "==", "value": "old"}],
     "filter 1 compares numeric column 'age' with 'old'"),
    ([{"column": "age", "op": ">", "value": 1000}], "the [data] filters keep no rows (of 200)"),
])
def test_a_filter_that_cannot_apply_names_the_file_and_the_filter(tmp_path, filters, message):
    with pytest.raises(TwinauditError, match=re.escape(message)):
        load_csv(tmp_path, user_frame(), filters=filters)


@pytest.mark.parametrize("entry, message", [
    ({"column": "age", "op": "~=", "value": 1}, "[data].filters[1].op: expected one of =="),
    ({"column": "age", "op": "in", "value": 1}, "a list for in / not in"),
    ({"column": "age", "op": "==", "value": [1]}, "a list for in / not in"),
    ({"column": "age", "op": "=="}, "a table of exactly column, op, value"),
    ({"column": "age", "op": "<", "value": float("inf")}, "a finite number"),
])
def test_a_malformed_filter_is_refused_at_load(tmp_path, entry, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        spec_from_dict({"audit": {"name": "c"}, "data": csv_section(
            tmp_path / "d.csv", filters=[entry])}, source=tmp_path / "c.toml")


def test_the_filter_operations_are_the_vocabulary():
    from twinaudit.data.csv_table import FILTER_OPERATIONS
    from twinaudit.vocabulary import FILTER_OPS

    assert tuple(FILTER_OPERATIONS) == FILTER_OPS
