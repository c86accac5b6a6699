"""Kamiran–Calders re-sampling: a hand-worked example, exact group × label counts on Adult,
COMPAS and scikit-learn's diabetes data, and the uniform scheme's equal chances."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.data import adult as adult_data
from twinaudit.fairness.audit import FairnessInputError
from twinaudit.fairness.mitigation import reweighing_weights
from twinaudit.fairness.resampling import resampled_rows

from helpers import COMPAS_CSV, diabetes_frame

# Ten rows worked by hand: group a has 4 positives and 2 negatives, b 1 and 3; half the rows
# are positive, so independence wants a: 3 + 3 and b: 2 + 2.
HAND = pd.DataFrame({"g": list("aaaaaabbbb"), "y": [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]})
HAND_SCORES = np.array([0.9, 0.6, 0.7, 0.95, 0.1, 0.4, 0.3, 0.2, 0.8, 0.5])


def test_preferential_changes_the_rows_nearest_the_boundary_first():
    rows = resampled_rows(HAND["y"], HAND[["g"]], ["g"], scheme="preferential",
                          scores=HAND_SCORES)
    # a's positives lose their lowest score (row 1, 0.6); a's negatives repeat their highest
    # (row 5, 0.4); b's one positive (row 6) repeats; b's negatives lose their highest (row 8).
    assert rows.tolist() == [0, 2, 3, 4, 5, 5, 6, 6, 7, 9]


def test_uniform_reaches_the_same_cells_by_chance_rows():
    rows = resampled_rows(HAND["y"], HAND[["g"]], ["g"], scheme="uniform", random_state=3)
    picked = HAND.iloc[rows]
    assert pd.crosstab(picked["g"], picked["y"]).to_dict() == {0: {"a": 3, "b": 2},
                                                               1: {"a": 3, "b": 2}}
    assert np.bincount(rows, minlength=10)[6] == 2  # b's one positive, twice


def test_uniform_gives_every_row_of_a_cell_the_same_chance():
    # a's four positives shrink to three: each must be kept 3/4 of the time.
    kept = np.zeros(4)
    for seed in range(4000):
        rows = resampled_rows(HAND["y"], HAND[["g"]], ["g"], random_state=seed)
        kept += np.isin([0, 1, 2, 3], rows)
    # 4000 draws: the standard error of a 3/4 share is 0.007; 0.03 is over four of them.
    np.testing.assert_allclose(kept / 4000, 0.75, atol=0.03)


def _adult() -> pd.DataFrame:
    frame = adult_data.parse(adult_data.read_bundled("adult.data"), is_test_file=False)
    return frame.assign(label=(frame["income"] == ">50K").astype(int))


def _compas() -> pd.DataFrame:
    frame = pd.read_csv(COMPAS_CSV)
    return frame.assign(label=frame["two_year_recid"])


def _diabetes() -> pd.DataFrame:
    return diabetes_frame().rename(columns={"progression": "label"})


DATA = {"adult": (_adult, ["sex", "race"]), "compas": (_compas, ["race", "sex"]),
        "diabetes": (_diabetes, ["sex"])}


@pytest.mark.parametrize("name", DATA)
@pytest.mark.parametrize("scheme", ["uniform", "preferential"])
def test_every_group_keeps_its_size_and_reaches_the_overall_base_rate(name, scheme):
    frame, columns = DATA[name][0](), DATA[name][1]
    scores = np.random.default_rng(0).random(len(frame))  # a ranker's scores, any will do
    rows = resampled_rows(frame["label"], frame[columns], columns, scheme=scheme,
                          scores=scores, min_group_size=1)
    before, after = frame, frame.iloc[rows]
    assert len(rows) == len(frame)
    # The counts each cell must reach, from the definition (n_g · n_1 / n, rounded) with
    # pandas: every group's size and its positives exactly.
    sizes = before.groupby(columns).size()
    positives = np.rint(sizes * before["label"].mean()).astype(int)
    pd.testing.assert_series_equal(after.groupby(columns).size(), sizes)
    pd.testing.assert_series_equal(after.groupby(columns)["label"].sum(), positives,
                                   check_names=False)
    # So the base rates are the overall one to within half a row of each group.
    rates = after.groupby(columns)["label"].mean()
    assert ((rates - before["label"].mean()).abs() <= 0.5 / sizes + 1e-12).all()
    # Re-sampling is reweighing in whole rows: each cell's share of rows is its reweighed
    # share of weight, to within the rounding of one row.
    weights = pd.Series(reweighing_weights(before["label"], before[columns], columns))
    keys = [before[c] for c in columns] + [before["label"]]
    weighted = weights.groupby(keys).sum()
    counted = after.groupby([*columns, "label"]).size().astype(float)
    assert (weighted - counted).abs().max() <= 0.5 + 1e-9


def test_small_groups_are_pooled_before_resampling():
    frame = _compas()
    rows = resampled_rows(frame["label"], frame[["race"]], ["race"], min_group_size=100)
    # Asian (31 rows) and Native American (18) are re-sampled together: as one group their
    # sizes may move between them, never out of the pooled group.
    after = frame.iloc[rows]
    small = frame["race"].isin(["Asian", "Native American"])
    assert small.sum() == after["race"].isin(["Asian", "Native American"]).sum()


def test_a_cell_without_rows_is_one_clear_error():
    # b's four rows are all positive; independence wants one of them negative.
    frame = pd.DataFrame({"g": list("aabbbb"), "y": [1, 0, 1, 1, 1, 1]})
    with pytest.raises(FairnessInputError, match=r"'b' and y_true=0"):
        resampled_rows(frame["y"], frame[["g"]], ["g"])


def test_preferential_needs_scores():
    with pytest.raises(ValueError, match="scores"):
        resampled_rows(HAND["y"], HAND[["g"]], ["g"], scheme="preferential")
