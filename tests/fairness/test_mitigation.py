"""Kamiran–Calders reweighing (on the real Adult training file) and the ThresholdOptimizer."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.data import adult as adult_data
from twinaudit.fairness.audit import FairnessInputError, fairness_audit
from twinaudit.fairness.mitigation import (
    POOLED,
    check_thresholds_possible,
    group_balance_weights,
    mitigation_groups,
    reweighing_weights,
    threshold_optimizer_predictions,
)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    """The bundled Adult training file, raw (before any split or preprocessing)."""
    frame = adult_data.parse(adult_data.read_bundled("adult.data"), is_test_file=False)
    frame["label"] = (frame["income"] == ">50K").astype(int)
    return frame


def _weighted_base_rates(frame: pd.DataFrame, columns: list[str], weights) -> pd.Series:
    weighted = frame.assign(weight=weights, weighted_label=weights * frame["label"])
    sums = weighted.groupby(columns)[["weighted_label", "weight"]].sum()
    return sums["weighted_label"] / sums["weight"]


def test_adult_label_statistical_parity_difference_is_the_known_figure(adult):
    rates = _weighted_base_rates(adult, ["sex"], np.ones(len(adult)))
    assert len(adult) == 32561
    assert round(rates["Female"] - rates["Male"], 3) == -0.196


def test_reweighing_on_sex_removes_the_label_disparity(adult):
    weights = reweighing_weights(adult["label"], adult[["sex", "race"]], ["sex"])
    rates = _weighted_base_rates(adult, ["sex"], weights)
    assert abs(rates["Female"] - rates["Male"]) <= 1e-12
    assert weights.sum() == pytest.approx(len(adult))  # reweighing moves weight, adds none


def test_reweighing_on_sex_and_race_removes_every_intersectional_disparity(adult):
    weights = reweighing_weights(adult["label"], adult, ["sex", "race"])
    rates = _weighted_base_rates(adult, ["sex", "race"], weights)
    assert len(rates) == 10
    assert rates.max() - rates.min() <= 1e-12
    assert rates.iloc[0] == pytest.approx(adult["label"].mean())


def test_reweighing_keeps_existing_weights(adult):
    existing = adult["fnlwgt"].to_numpy(float)
    weights = reweighing_weights(adult["label"], adult, ["sex"], sample_weight=existing)
    rates = _weighted_base_rates(adult, ["sex"], weights)
    assert abs(rates["Female"] - rates["Male"]) <= 1e-12
    # The factor multiplied in depends on the (group, label) cell only.
    factors = pd.Series(weights / existing).groupby([adult["sex"], adult["label"]])
    assert len(factors) == 4
    assert ((factors.max() - factors.min()) / factors.mean()).max() <= 1e-12


def test_reweighing_by_hand():
    # a: labels 1, 0, 0 ; b: labels 1, 0. P(a) = 3/5, P(b) = 2/5, P(y=1) = 2/5, P(y=0) = 3/5.
    weights = reweighing_weights(
        [1, 0, 0, 1, 0], pd.DataFrame({"g": ["a", "a", "a", "b", "b"]}), ["g"]
    )
    # W(a,1) = (3/5)(2/5)/(1/5) = 1.2   W(a,0) = (3/5)(3/5)/(2/5) = 0.9
    # W(b,1) = (2/5)(2/5)/(1/5) = 0.8   W(b,0) = (2/5)(3/5)/(1/5) = 1.2
    np.testing.assert_allclose(weights, [1.2, 0.9, 0.9, 0.8, 1.2])
    doubled = reweighing_weights([1, 0, 0, 1, 0], pd.DataFrame({"g": list("aaabb")}), ["g"],
                                 sample_weight=[2.0, 1, 1, 1, 1])
    # Now P(a) = 4/6, P(y=1) = 3/6, P(a,1) = 2/6: W(a,1) = (4/6)(3/6)/(2/6) = 1, times 2.
    assert doubled[0] == pytest.approx(2.0)


def test_reweighing_an_empty_cell_is_an_error_naming_it():
    frame = pd.DataFrame({"g": ["a", "a", "b", "b"], "h": ["x", "x", "x", "x"]})
    with pytest.raises(FairnessInputError, match=r"'b×x' and y_true=0"):
        reweighing_weights([1, 0, 1, 1], frame, ["g", "h"])
    with pytest.raises(FairnessInputError, match=r"'a' and y_true=1"):
        reweighing_weights([0, 0, 1, 0], frame, ["g"])


def test_reweighed_predictions_equal_to_labels_have_zero_weighted_parity(adult):
    weights = reweighing_weights(adult["label"], adult, ["sex"])
    result = fairness_audit(adult["label"], adult["label"], None, adult[["sex"]],
                            group_sets=[["sex"]], sample_weight=weights, n_resamples=0)
    value = result["group_sets"]["sex"]["disparities"]["demographic_parity_difference"]["value"]
    assert abs(value) <= 1e-12


# --- ThresholdOptimizer --------------------------------------------------------------------


def _biased_scores(n_rows: int, seed: int):
    random = np.random.default_rng(seed)
    group = random.choice(["a", "b"], n_rows)
    y_true = (random.random(n_rows) < np.where(group == "a", 0.5, 0.3)).astype(int)
    # Group b's scores are shifted down: a plain 0.5 threshold selects it far less.
    y_score = np.clip(0.35 * y_true + 0.6 * random.random(n_rows)
                      - 0.15 * (group == "b"), 0, 1)
    return y_score, y_true, pd.DataFrame({"g": group})


def _selection_gap(predictions, frame):
    rates = pd.Series(predictions).groupby(frame["g"].to_numpy()).mean()
    return abs(rates["a"] - rates["b"])


def test_threshold_optimizer_closes_the_selection_gap_and_is_seeded():
    validation, test = _biased_scores(4000, 0), _biased_scores(4000, 1)
    arguments = (validation[0], validation[1], validation[2], test[0], test[2])
    predictions = threshold_optimizer_predictions(*arguments, columns=["g"], random_state=3)
    assert set(np.unique(predictions)) <= {0, 1} and len(predictions) == 4000
    assert _selection_gap((test[0] > 0.5).astype(int), test[2]) > 0.15
    assert _selection_gap(predictions, test[2]) < 0.05
    again = threshold_optimizer_predictions(*arguments, columns=["g"], random_state=3)
    np.testing.assert_array_equal(predictions, again)


def test_threshold_optimizer_for_equalized_odds_closes_the_tpr_gap():
    validation, test = _biased_scores(4000, 0), _biased_scores(4000, 1)
    predictions = threshold_optimizer_predictions(
        validation[0], validation[1], validation[2], test[0], test[2], columns=["g"],
        constraints="equalized_odds",
    )
    result = fairness_audit(test[1], predictions, None, test[2], group_sets=[["g"]],
                            n_resamples=0)
    assert result["group_sets"]["g"]["disparities"]["equalized_odds_difference"]["value"] < 0.06


def test_threshold_optimizer_rejects_groups_unseen_in_validation_and_unknown_constraints():
    validation, test = _biased_scores(200, 0), _biased_scores(200, 1)
    test[2].loc[0, "g"] = "c"
    with pytest.raises(FairnessInputError, match="'c' does not occur in the validation"):
        threshold_optimizer_predictions(validation[0], validation[1], validation[2],
                                        test[0], test[2], columns=["g"])
    with pytest.raises(FairnessInputError, match="constraints"):
        threshold_optimizer_predictions(validation[0], validation[1], validation[2],
                                        test[0], test[2], columns=["g"], constraints="parity")


def test_the_pre_training_check_finds_what_would_stop_threshold_optimizer():
    validation, test = _biased_scores(200, 0), _biased_scores(200, 1)
    check_thresholds_possible(validation[1], validation[2], test[2], ["g"])  # fine as drawn
    unseen = test[2].copy()
    unseen.loc[0, "g"] = "c"
    with pytest.raises(FairnessInputError, match="'c' does not occur in the validation"):
        check_thresholds_possible(validation[1], validation[2], unseen, ["g"])
    # A validation group whose rows all carry one label: fairlearn's "Degenerate labels",
    # which it would raise only after training.
    labels = np.asarray(validation[1]).copy()
    labels[np.asarray(validation[2]["g"]) == "a"] = 1
    with pytest.raises(FairnessInputError, match="validation group 'a' has label 1 only"):
        check_thresholds_possible(labels, validation[2], test[2], ["g"])
    # The post-processing itself says the same (fairlearn would raise its own ValueError).
    with pytest.raises(FairnessInputError, match="validation group 'a' has label 1 only"):
        threshold_optimizer_predictions(validation[0], labels, validation[2], test[0], test[2],
                                        columns=["g"])


# -- groups under min_group_size are pooled ---------------------------------------------------

def test_groups_under_the_minimum_size_and_unseen_groups_share_one_pooled_group():
    fit = pd.DataFrame({"race": ["A"] * 40 + ["B"] * 35 + ["C"] * 4 + ["D"] * 2})
    test = pd.DataFrame({"race": ["A", "B", "C", "D", "E"]})
    fit_labels, (test_labels,), pooled = mitigation_groups(fit, ["race"], 30, test)
    assert pooled == ["C", "D", "E"]
    assert list(test_labels) == ["A", "B", POOLED, POOLED, POOLED]
    assert (fit_labels[75:] == POOLED).all() and set(fit_labels[:75]) == {"A", "B"}
    # With a minimum of 1 nothing seen is pooled; the unseen test group still is.
    assert mitigation_groups(fit, ["race"], 1, test)[2] == ["E"]


def test_reweighing_pools_small_groups_and_weighs_the_pool_by_hand():
    # C (3 rows) holds label 1 only: alone its (C, 0) cell is empty and weights are undefined.
    frame = pd.DataFrame({"g": ["A"] * 40 + ["B"] * 40 + ["C"] * 3 + ["D"] * 2})
    y = np.array([1] * 10 + [0] * 30 + [1] * 20 + [0] * 20 + [1, 1, 1] + [0, 0])
    with pytest.raises(FairnessInputError, match="'C' and y_true=0"):
        reweighing_weights(y, frame, ["g"])
    weights = reweighing_weights(y, frame, ["g"], min_group_size=30)
    # The pool {C, D}: 5 rows, 3 positive. W(pool, 1) = P(pool)·P(1) / P(pool, 1).
    n, positives = len(y), y.sum()
    expected = (5 / n) * (positives / n) / (3 / n)
    np.testing.assert_allclose(weights[80:83], expected)
    np.testing.assert_allclose(weights[:10], (40 / n) * (positives / n) / (10 / n))


def test_threshold_optimizer_fits_one_threshold_for_the_pooled_small_groups():
    rng = np.random.default_rng(0)
    groups = np.array(["A"] * 300 + ["B"] * 300 + ["C"] * 3)
    y = rng.integers(0, 2, len(groups))
    y[600:] = 0  # C alone: one label only, which fairlearn refuses ("Degenerate labels")
    score = np.clip(0.5 * y + rng.normal(0.25, 0.2, len(y)), 0, 1)
    frame = pd.DataFrame({"g": groups})
    with pytest.raises(FairnessInputError, match="validation group 'C' has label 0 only"):
        check_thresholds_possible(y, frame, frame, ["g"])
    # Pooled with nothing else it is still one label: the pool is then the group named.
    with pytest.raises(FairnessInputError, match=f"validation group '{POOLED}' has label 0"):
        check_thresholds_possible(y, frame, frame, ["g"], min_group_size=30)
    # With a second small group holding both labels the pool can be fitted.
    groups[590:600] = "D"
    frame = pd.DataFrame({"g": groups})
    check_thresholds_possible(y, frame, frame, ["g"], min_group_size=30)
    predicted = threshold_optimizer_predictions(score, y, frame, score, frame, columns=["g"],
                                                min_group_size=30)
    assert predicted.shape == y.shape and set(np.unique(predicted)) <= {0, 1}


def test_group_balance_gives_every_group_the_same_total_weight(adult):
    weights = group_balance_weights(adult[["sex", "race"]], ["race"])
    totals = pd.Series(weights).groupby(adult["race"].to_numpy()).sum()
    # Five races: each carries a fifth of the rows' weight, by hand n / 5.
    np.testing.assert_allclose(totals.to_numpy(), len(adult) / 5)
    assert weights.mean() == pytest.approx(1.0)
    # Pooled: groups under 1,000 rows (Amer-Indian-Eskimo, Other) share one total.
    pooled = group_balance_weights(adult, ["race"], min_group_size=1000)
    small = adult["race"].isin(["Amer-Indian-Eskimo", "Other"]).to_numpy()
    assert pooled[small].sum() == pytest.approx(len(adult) / 4)
