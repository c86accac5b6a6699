"""Input profiling against hand-made tables whose truth is known."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.data.profile import (
    LEAK_AUC,
    MAX_ONE_HOT_INPUTS,
    check_levels,
    input_warnings,
    numeric_sensitive_suggestion,
    roc_auc,
)
from twinaudit.errors import TwinauditError

ROWS = 3000


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray]:
    random = np.random.default_rng(1)
    y = random.integers(0, 2, ROWS)
    # A strong, honest signal: the label plus noise (AUC ~0.8, the normal cdf of 1/(0.85·√2)).
    noisy = y + random.normal(0.0, 0.85, ROWS)
    frame = pd.DataFrame({
        "row": np.arange(ROWS),                                 # a row counter
        "case": [f"C-{i:06d}" for i in random.permutation(ROWS)],  # a case number
        "income": random.lognormal(10, 1, ROWS),                  # distinct, but no identifier
        "noisy": noisy,
        "copied": y * 1.0,                                        # the label again
        "outcome_text": np.where(y == 1, "approved", "refused"),  # the label again, as text
        "city": [f"city{i}" for i in random.integers(0, 150, ROWS)],      # 150 levels
        "random_code": [f"k{i}" for i in random.integers(0, 1000, ROWS)],  # 1,000 levels
        "colour": random.choice(["red", "green", "blue"], ROWS),
    })
    return frame, y


NUMERIC = ["row", "income", "noisy", "copied"]
CATEGORICAL = ["case", "outcome_text", "city", "random_code", "colour"]


def kinds(warnings: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for warning in warnings:
        assert set(warning) == {"kind", "column", "message"}
        assert "\n" not in warning["message"] and warning["column"] in warning["message"]
        found.setdefault(warning["kind"], set()).add(warning["column"])
    return found


def test_finds_the_identifiers_the_many_levels_and_the_leaks_and_nothing_else(table):
    frame, y = table
    found = kinds(input_warnings(frame, y, numeric=NUMERIC, categorical=CATEGORICAL))
    assert found == {"id_like": {"row", "case"},
                     "many_levels": {"city", "random_code"},
                     "leak": {"copied", "outcome_text"}}


def test_the_noisy_column_is_strong_but_not_a_leak(table):
    frame, y = table
    auc = roc_auc(frame["noisy"].to_numpy(), y)
    assert 0.75 < auc < 0.85 < LEAK_AUC


def test_a_many_level_random_column_would_leak_if_scored_on_its_own_rows(table):
    # The reason for cross-fitting: in-sample level rates of 1,000 levels of ~3 rows each
    # separate the classes well, out-of-sample ones do not.
    frame, y = table
    codes, _ = pd.factorize(frame["random_code"])
    in_sample = pd.Series(y).groupby(codes).transform("mean").to_numpy()
    assert roc_auc(in_sample, y) > 0.8
    found = kinds(input_warnings(frame, y, numeric=[], categorical=["random_code"]))
    assert "leak" not in found


def test_the_messages_say_what_to_do_and_count_the_one_hot_inputs(table):
    frame, y = table
    by_column = {w["column"]: w for w in input_warnings(frame, y, numeric=NUMERIC,
                                                        categorical=CATEGORICAL)}
    assert "150 levels" in by_column["city"]["message"]
    assert "150 model inputs" in by_column["city"]["message"]
    assert "drop_columns" in by_column["copied"]["message"]
    assert "ROC AUC 1.000" in by_column["copied"]["message"]
    assert "identifier" in by_column["case"]["message"]


def test_an_inverted_leak_counts_and_missing_numbers_are_scored(table):
    frame, y = table
    inverted = pd.DataFrame({"minus": -frame["copied"].to_numpy(),
                             "gappy": np.where(y == 1, np.nan, 1.0)})
    found = kinds(input_warnings(inverted, y, numeric=["minus", "gappy"], categorical=[]))
    assert found == {"leak": {"minus", "gappy"}}


def test_a_small_table_has_no_identifiers_and_one_class_no_leaks():
    frame = pd.DataFrame({"name": [f"n{i}" for i in range(20)], "x": np.arange(20.0)})
    assert input_warnings(frame, np.arange(20) % 2, numeric=["x"], categorical=["name"]) == []
    y = np.zeros(20, dtype=int)
    assert input_warnings(frame, y, numeric=["x"], categorical=["name"]) == []


def test_a_shuffled_float_measurement_is_not_a_counter():
    random = np.random.default_rng(2)
    frame = pd.DataFrame({"weight": random.normal(70, 10, 500),
                          "shuffled_id": random.permutation(500)})
    found = kinds(input_warnings(frame, random.integers(0, 2, 500),
                                 numeric=["weight", "shuffled_id"], categorical=[]))
    assert found == {"id_like": {"shuffled_id"}}


def test_check_levels_passes_under_the_limit_and_names_the_worst_column_over_it(table):
    frame, _ = table
    assert check_levels(frame, ["city", "colour"], origin="data.csv") is None
    with pytest.raises(TwinauditError) as error:
        check_levels(frame, ["case", "city", "colour"], origin="data.csv", limit=3000)
    message = str(error.value)
    assert message.startswith("data.csv: ") and "\n" not in message
    assert "'case' (3,000 levels)" in message and "3,153 one-hot inputs" in message
    assert message.index("'case'") < message.index("'city'")
    with pytest.raises(TwinauditError, match="at most 100"):
        check_levels(frame, ["city"], origin="data.csv", limit=100)
    assert MAX_ONE_HOT_INPUTS >= 1000


def test_numeric_sensitive_suggestion_gives_readable_quartiles():
    random = np.random.default_rng(3)
    age = pd.Series(random.integers(18, 90, 2000))
    edges = numeric_sensitive_suggestion(age)
    assert edges is not None and len(edges) == 3
    quartiles = np.quantile(age, [0.25, 0.5, 0.75])
    assert np.allclose(edges, quartiles, rtol=0.05)
    assert all(float(edge).is_integer() for edge in edges)
    assert edges == sorted(set(edges))
    income = pd.Series(random.lognormal(10, 0.5, 2000))
    income_edges = numeric_sensitive_suggestion(income)
    assert income_edges is not None
    assert all(edge == float(f"{edge:.2g}") for edge in income_edges)


def test_numeric_sensitive_suggestion_is_none_for_few_values_or_text():
    assert numeric_sensitive_suggestion(pd.Series([1, 2, 3] * 50)) is None
    assert numeric_sensitive_suggestion(pd.Series(["a", "b"] * 50)) is None
    assert numeric_sensitive_suggestion(pd.Series([True, False] * 50)) is None


def test_a_skewed_column_keeps_only_edges_inside_its_range():
    values = pd.Series([0] * 900 + list(range(1, 101)))
    edges = numeric_sensitive_suggestion(values)
    assert edges is None or all(0 < edge <= 100 for edge in edges)


def test_roc_auc_matches_the_definition_with_ties():
    score = np.array([0.1, 0.4, 0.4, 0.8, 0.4])
    y = np.array([0, 0, 1, 1, 1])
    pairs = [(p, n) for p in score[y == 1] for n in score[y == 0]]
    expected = np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs])
    assert roc_auc(score, y) == pytest.approx(expected)

