"""The user's own CSV or parquet file as a data set, and its errors naming file and column."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twinaudit.data import load_dataset
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection, spec_from_dict


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
    rows = "\n".join(f"{20 + i},{'ab'[i % 2]},{20 + i},{('yes', 'no')[i % 2]}"
                      for i in range(40))
    with pytest.raises(TwinauditError, match="appears more than once in the header"):
        load_csv(tmp_path, f"{header}\n{rows}\n")


def test_a_column_of_words_with_a_few_numbers_stays_categorical(tmp_path):
    frame = user_frame()
    frame["city"] = np.resize(["x", "y", "7"], len(frame))
    assert "city=7" in load_csv(tmp_path, frame).feature_names
