"""The fairness audit: fairlearn as oracle, hand-worked cases, properties, intervals, errors."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, balanced_accuracy_score, precision_score

from twinaudit.errors import TwinauditError
from twinaudit.fairness.audit import (
    DISPARITIES,
    INTERSECTION_SEPARATOR,
    FairnessInputError,
    encode_groups,
    fairness_audit,
    summarise_across_seeds,
)
from twinaudit.fairness.counts import GROUP_METRICS
from twinaudit.spec.sections import EQUIVALENCE_MARGINS
from twinaudit.vocabulary import FRAMEWORKS

from helpers import prediction_rows


def _synthetic(n_rows: int = 3000, seed: int = 0) -> dict:
    """Predictions that differ by group, with every rate defined in every sex×race group."""
    random = np.random.default_rng(seed)
    sex = random.choice(["Female", "Male"], n_rows, p=[0.4, 0.6])
    race = random.choice(["White", "Black", "Other"], n_rows, p=[0.7, 0.2, 0.1])
    advantage = 0.15 * (sex == "Male") + 0.05 * (race == "White")
    y_true = (random.random(n_rows) < 0.25 + advantage).astype(int)
    y_score = np.clip(0.3 * y_true + 0.5 * random.random(n_rows) + advantage, 0, 1)
    return {
        "y_true": y_true,
        "y_pred": (y_score > 0.5).astype(int),
        "y_score": y_score,
        "sensitive_features": pd.DataFrame({"sex": sex, "race": race}),
        "sample_weight": random.exponential(1.0, n_rows),
    }


def _audit(data: dict, weighted: bool = False, **options) -> dict:
    options.setdefault("group_sets", [["sex"], ["race"], ["sex", "race"]])
    options.setdefault("n_resamples", 200)
    # The hand-worked and property cases use groups of a few rows; the small-group rule
    # (default 30) has its own tests below.
    options.setdefault("min_group_size", 1)
    return fairness_audit(
        data["y_true"], data["y_pred"], data["y_score"], data["sensitive_features"],
        sample_weight=data["sample_weight"] if weighted else None, **options,
    )


# --- fairlearn as the oracle ---------------------------------------------------------------

ORACLE_METRICS = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "precision": precision_score,
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("columns", [["sex"], ["race"], ["sex", "race"]])
def test_group_metrics_match_fairlearn_metric_frame(weighted, columns):
    data = _synthetic()
    sample_weight = data["sample_weight"] if weighted else None
    frame = MetricFrame(
        metrics=ORACLE_METRICS, y_true=data["y_true"], y_pred=data["y_pred"],
        sensitive_features=data["sensitive_features"][columns],
        sample_params={name: {"sample_weight": sample_weight} for name in ORACLE_METRICS},
    )
    groups = _audit(data, weighted, group_sets=[columns], n_resamples=0)["group_sets"][
        INTERSECTION_SEPARATOR.join(columns)]["groups"]
    assert len(groups) == len(frame.by_group)
    for key, expected in frame.by_group.iterrows():
        label = INTERSECTION_SEPARATOR.join(key if isinstance(key, tuple) else (key,))
        for name in ORACLE_METRICS:
            assert groups[label]["metrics"][name]["value"] == pytest.approx(
                expected[name], abs=1e-9), (label, name)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("columns", [["sex"], ["race"], ["sex", "race"]])
def test_disparities_match_fairlearn(weighted, columns):
    data = _synthetic()
    keywords = {
        "sensitive_features": data["sensitive_features"][columns],
        "sample_weight": data["sample_weight"] if weighted else None,
    }
    oracles = {
        "demographic_parity_difference": demographic_parity_difference,
        "demographic_parity_ratio": demographic_parity_ratio,
        "equalized_odds_difference": equalized_odds_difference,
        "equalized_odds_ratio": equalized_odds_ratio,
        "equal_opportunity_difference": equal_opportunity_difference,
        "equal_opportunity_ratio": equal_opportunity_ratio,
    }
    disparities = _audit(data, weighted, group_sets=[columns], n_resamples=0)["group_sets"][
        INTERSECTION_SEPARATOR.join(columns)]["disparities"]
    for name, oracle in oracles.items():
        expected = oracle(data["y_true"], data["y_pred"], **keywords)
        assert disparities[name]["value"] == pytest.approx(expected, abs=1e-9), name


# --- hand-worked cases ---------------------------------------------------------------------


def _hand_data() -> dict:
    # Group a: 4 rows, predictions 1, 1, 0, 0 -> selection 0.5; precision 1/2.
    # Group b: 4 rows, predictions 1, 0, 0, 0 -> selection 0.25; precision 1/1.
    return {
        "y_true": np.array([1, 0, 1, 0, 1, 0, 0, 1]),
        "y_pred": np.array([1, 1, 0, 0, 1, 0, 0, 0]),
        "y_score": np.array([0.95, 0.75, 0.35, 0.05, 0.65, 0.45, 0.25, 0.15]),
        "sensitive_features": pd.DataFrame({"group": list("aaaabbbb")}),
        "sample_weight": None,
    }


def test_disparate_impact_statistical_parity_and_four_fifths_by_hand():
    result = _audit(_hand_data(), group_sets=[["group"]], privileged={"group": "a"})
    entry = result["group_sets"]["group"]
    disparities = entry["disparities"]
    assert entry["privileged_group"] == "a"
    assert disparities["disparate_impact"]["value"] == pytest.approx(0.25 / 0.5)
    assert disparities["statistical_parity_difference"]["value"] == pytest.approx(0.25 - 0.5)
    assert disparities["disparate_impact"]["worst_group"] == "b"
    assert disparities["disparate_impact"]["reference_group"] == "a"
    assert disparities["four_fifths_rule_violated"]["value"] is True
    assert disparities["four_fifths_rule_violated"]["ratio"] == pytest.approx(0.5)


def test_predictive_parity_and_calibration_by_hand():
    groups_and_disparities = _audit(_hand_data(), group_sets=[["group"]])["group_sets"]["group"]
    disparities = groups_and_disparities["disparities"]
    assert disparities["predictive_parity_difference"]["value"] == pytest.approx(1.0 - 0.5)
    assert disparities["predictive_parity_difference"]["worst_group"] == "a"
    groups = groups_and_disparities["groups"]
    # a: bins 9 (y1), 7 (y0), 3 (y1), 0 (y0): |1-.95| + |0-.75| + |1-.35| + |0-.05| = 1.5
    # b: bins 6 (y1), 4 (y0), 2 (y0), 1 (y1): .35 + .45 + .25 + .85 = 1.9
    ece = "expected_calibration_error"
    assert groups["a"]["metrics"][ece]["value"] == pytest.approx(1.5 / 4)
    assert groups["b"]["metrics"][ece]["value"] == pytest.approx(1.9 / 4)


def test_intersection_privileged_group_is_the_combination():
    data = _synthetic(1000)
    privileged = {"sex": "Male", "race": "White"}
    result = _audit(data, group_sets=[["sex", "race"]], privileged=privileged, n_resamples=0)
    entry = result["group_sets"]["sex×race"]
    assert entry["privileged_group"] == "Male×White"
    assert entry["groups"]["Female×Black"]["values"] == {"sex": "Female", "race": "Black"}
    rates = {label: group["metrics"]["selection_rate"]["value"]
             for label, group in entry["groups"].items()}
    lowest = min((rate, label) for label, rate in rates.items() if label != "Male×White")
    impact = entry["disparities"]["disparate_impact"]
    assert impact["value"] == pytest.approx(lowest[0] / rates["Male×White"])
    assert impact["worst_group"] == lowest[1]


def test_disparate_impact_not_computable_without_a_privileged_value_for_every_column():
    result = _audit(_synthetic(500), privileged={"sex": "Male"}, n_resamples=0)
    assert result["group_sets"]["sex"]["disparities"]["disparate_impact"]["value"] is not None
    for name in ("race", "sex×race"):
        impact = result["group_sets"][name]["disparities"]["disparate_impact"]
        assert impact["value"] is None
        assert "race" in impact["reason"]


def test_absent_privileged_combination_is_not_computable():
    data = _hand_data()
    data["sensitive_features"]["other"] = list("xxxxyyyy")  # a only with x, b only with y
    result = _audit(data, group_sets=[["group", "other"]], privileged={"group": "a", "other": "y"})
    impact = result["group_sets"]["group×other"]["disparities"]["disparate_impact"]
    assert impact["value"] is None and "'a×y' does not occur" in impact["reason"]


# --- properties ----------------------------------------------------------------------------

rows = prediction_rows(2, 60, "abc", st.randoms(use_true_random=False))


def _values(result: dict) -> list:
    """Every point value of the audit, in a fixed order."""
    found = []
    for entry in result["group_sets"].values():
        for group in entry["groups"].values():
            found += [metric["value"] for metric in group["metrics"].values()]
        found += [disparity["value"] for disparity in entry["disparities"].values()]
    return found


@settings(max_examples=60, deadline=None)
@given(rows)
def test_audit_is_invariant_to_row_order(data):
    y_true, y_pred, groups, y_score, random = data
    order = list(range(len(y_true)))
    random.shuffle(order)

    def audit(index):
        return fairness_audit(
            np.array(y_true)[index], np.array(y_pred)[index], np.array(y_score)[index],
            pd.DataFrame({"g": np.array(groups)[index]}), group_sets=[["g"]], n_resamples=0,
            min_group_size=1,
        )

    original, permuted = _values(audit(list(range(len(y_true))))), _values(audit(order))
    assert permuted == pytest.approx(original, abs=1e-12, nan_ok=True)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_identical_groups_have_no_disparity(data):
    y_true, y_pred, _, y_score, _ = data
    # The same rows twice, once as group a and once as group b.
    twice = fairness_audit(
        np.tile(y_true, 2), np.tile(y_pred, 2), np.tile(y_score, 2),
        pd.DataFrame({"g": ["a"] * len(y_true) + ["b"] * len(y_true)}),
        group_sets=[["g"]], privileged={"g": "a"}, n_resamples=0, min_group_size=1,
    )
    for name, disparity in twice["group_sets"]["g"]["disparities"].items():
        if disparity["value"] is None or name == "four_fifths_rule_violated":
            continue  # undefined (no positives at all, say)
        neutral = 1.0 if "ratio" in name or name == "disparate_impact" else 0.0
        assert disparity["value"] == pytest.approx(neutral, abs=1e-12), name


@settings(max_examples=60, deadline=None)
@given(rows)
def test_differences_and_ratios_agree_with_the_group_values(data):
    y_true, y_pred, groups, y_score, _ = data
    result = fairness_audit(y_true, y_pred, y_score, pd.DataFrame({"g": groups}),
                            group_sets=[["g"]], n_resamples=0, min_group_size=1)
    entry = result["group_sets"]["g"]

    def rates(metric):
        values = [group["metrics"][metric]["value"] for group in entry["groups"].values()]
        return [value for value in values if value is not None]

    def spread(metric, undefined_as_zero=False):
        defined = rates(metric)
        if undefined_as_zero:  # fairlearn's convention
            defined = [value if value is not None else 0.0 for value in
                       (group["metrics"][metric]["value"] for group in entry["groups"].values())]
        if not defined:
            return None, None
        ratio = min(defined) / max(defined) if max(defined) > 0 else None
        return max(defined) - min(defined), ratio

    disparities = {name: entry["disparities"][name]["value"] for name in DISPARITIES}
    if len(entry["groups"]) < 2:
        assert entry["status"] == "not_computable"
        assert all(value is None for value in disparities.values())
        return
    selection, positive, false_positive = (
        spread("selection_rate"), spread("true_positive_rate"), spread("false_positive_rate"))
    assert disparities["demographic_parity_difference"] == pytest.approx(selection[0])
    assert disparities["demographic_parity_ratio"] == pytest.approx(selection[1])
    assert disparities["equal_opportunity_difference"] == pytest.approx(
        spread("true_positive_rate", True)[0])
    differences = [value for value in (positive[0], false_positive[0]) if value is not None]
    expected = max(differences) if differences else None
    assert disparities["equalized_odds_difference_defined"] == pytest.approx(expected)
    assert disparities["equal_opportunity_difference_defined"] == pytest.approx(positive[0])
    fairlearn_style = max(spread("true_positive_rate", True)[0],
                          spread("false_positive_rate", True)[0])
    assert disparities["equalized_odds_difference"] == pytest.approx(fairlearn_style)


# --- confidence intervals ------------------------------------------------------------------


def _all_intervals(result: dict):
    for name, entry in result["group_sets"].items():
        for label, group in entry["groups"].items():
            for metric, value in group["metrics"].items():
                yield f"{name}/{label}/{metric}", value["value"], value["ci"]
        for disparity, value in entry["disparities"].items():
            if disparity != "four_fifths_rule_violated":
                yield f"{name}/{disparity}", value["value"], value["ci"]


def test_intervals_contain_the_point_estimate():
    result = _audit(_synthetic(4000), privileged={"sex": "Male", "race": "White"},
                    n_resamples=500)
    checked = 0
    for where, value, interval in _all_intervals(result):
        assert interval is not None, where
        assert interval[0] - 1e-12 <= value <= interval[1] + 1e-12, where
        checked += 1
    assert checked > 100


def test_intervals_shrink_with_more_data():
    small = _synthetic(1000)
    large = {key: (pd.concat([value] * 9, ignore_index=True) if key == "sensitive_features"
                   else np.tile(value, 9)) for key, value in small.items()}

    def widths(data):
        result = _audit(data, group_sets=[["sex"]], privileged={"sex": "Male"})
        return {where: interval[1] - interval[0]
                for where, _, interval in _all_intervals(result)}

    small_widths, large_widths = widths(small), widths(large)
    assert len(small_widths) == 2 * 9 + len(DISPARITIES)
    for where, width in small_widths.items():
        # Nine times the rows: about a third of the width.
        assert large_widths[where] < 0.5 * width, where


def test_intervals_are_seeded():
    data = _synthetic(800)
    first = _audit(data, random_state=3)
    assert _audit(data, random_state=3) == first
    other = _audit(data, random_state=4)
    assert [ci for *_, ci in _all_intervals(other)] != [ci for *_, ci in _all_intervals(first)]


def test_a_tiny_group_keeps_an_interval_and_is_flagged():
    data = _synthetic(600)
    race = data["sensitive_features"]["race"].to_numpy().copy()
    race[:3] = "Tiny"
    data["y_true"][:3], data["y_pred"][:3] = [1, 0, 1], [1, 1, 0]
    data["sensitive_features"]["race"] = race
    entry = _audit(data, group_sets=[["race"]], min_group_size=30)["group_sets"]["race"]
    groups = entry["groups"]
    assert groups["Tiny"]["count"] == 3 and groups["Tiny"]["small_group"] is True
    assert groups["White"]["small_group"] is False
    low, high = groups["Tiny"]["metrics"]["selection_rate"]["ci"]
    assert 0 <= low < 2 / 3 < high <= 1  # a binomial interval of 2 in 3, never [x, x]
    assert [excluded["group"] for excluded in entry["excluded_groups"]] == ["Tiny"]


def test_no_resamples_leaves_only_the_binomial_rate_intervals():
    # Before the rates had binomial intervals, n_resamples=0 meant no interval at all; rates
    # need no resamples now, the bootstrap figures still do.
    result = _audit(_hand_data(), group_sets=[["group"]], n_resamples=0)
    methods = result["interval_methods"]
    for where, value, interval in _all_intervals(result):
        figure = where.rsplit("/", 1)[-1]
        if methods[figure] == "bca_bootstrap" or value is None:
            assert interval is None, where
        else:
            assert interval[0] <= value <= interval[1] and interval[0] < interval[1], where


# --- output shape --------------------------------------------------------------------------


def test_result_is_strict_json_with_none_for_undefined_values():
    data = _hand_data()
    data["y_true"][4:] = 0  # group b has no positives: its TPR is undefined
    result = _audit(data, group_sets=[["group"]], privileged={"group": "a"})
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text) == result
    group_b = result["group_sets"]["group"]["groups"]["b"]["metrics"]
    assert group_b["true_positive_rate"] == {"value": None, "ci": None}
    assert result["overall"]["count"] == 8
    assert result["schema"] == "twinaudit.fairness/2"


def test_missing_values_form_their_own_group():
    frame = pd.DataFrame({"sex": ["F", None, "M", "M"]})
    grouping = encode_groups(frame, ["sex"])
    assert grouping.labels == ("<NA>", "F", "M")
    np.testing.assert_array_equal(grouping.codes, [1, 0, 2, 2])


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"group_sets": [["sex", "age"]]}, "'age'"),
        ({"privileged": {"sex": "Man"}}, "privileged group sex='Man' does not occur"),
        ({"privileged": {"religion": "x"}}, "'religion' is missing"),
        ({"y_pred": np.full(40, 2)}, "y_pred must hold only the labels 0 and 1; found 2"),
        ({"y_true": np.r_[np.full(39, 1.0), np.nan]}, "y_true must hold only the labels 0 and 1"),
        ({"y_score": np.full(40, 1.5)}, "y_score"),
        ({"y_pred": np.zeros(39, int)}, "y_pred has 39 rows; expected 40"),
        ({"sensitive_features": np.zeros(40)}, "must be a pandas DataFrame"),
        ({"sensitive_features": pd.DataFrame({"sex": [np.nan] * 40})}, "only missing values"),
        ({"group_sets": []}, "group_sets"),
        ({"sample_weight": -np.ones(40)}, "sample_weight"),
    ],
)
def test_bad_input_raises_one_clear_line(change, expected):
    arguments = {
        "y_true": np.tile([0, 1], 20), "y_pred": np.tile([1, 1, 0, 0], 10),
        "y_score": np.linspace(0, 1, 40), "sensitive_features": pd.DataFrame(
            {"sex": ["F", "M"] * 20}), "group_sets": [["sex"]],
    }
    arguments.update(change)
    positional = [arguments.pop(name) for name in ("y_true", "y_pred", "y_score",
                                                   "sensitive_features")]
    with pytest.raises(FairnessInputError) as raised:
        fairness_audit(*positional, **arguments)
    message = str(raised.value)
    assert expected in message and "\n" not in message
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, TwinauditError)


def test_a_constant_column_is_not_computable_rather_than_an_error():
    frame = pd.DataFrame({"sex": ["M"] * 40, "race": ["W", "B"] * 20})
    result = fairness_audit(np.tile([0, 1], 20), np.tile([1, 0], 20), None, frame,
                            group_sets=[["sex"], ["sex", "race"]], n_resamples=10,
                            min_group_size=20)
    single = result["group_sets"]["sex"]
    assert single["status"] == "not_computable"
    assert "single group ('M')" in single["reason"]
    assert single["groups"]["M"]["count"] == 40
    assert single["disparities"]["demographic_parity_difference"]["value"] is None
    assert result["group_sets"]["sex×race"]["status"] == "ok"


# --- across seeds and frameworks -----------------------------------------------------------


def _fake_audit(value: float) -> dict:
    disparities = {name: {"value": value} for name in DISPARITIES}
    return {
        "group_sets": {"sex": {"disparities": disparities}},
        "overall": {"metrics": {"accuracy": {"value": 0.8}} | {
            name: {"value": None} for name in (
                "base_rate", "selection_rate", "balanced_accuracy", "true_positive_rate",
                "false_positive_rate", "false_negative_rate", "precision",
                "expected_calibration_error")}},
    }


def _runs(torch_values, keras_values):
    return ([{"framework": "torch", "seed": seed, "audit": _fake_audit(value)}
             for seed, value in enumerate(torch_values)]
            + [{"framework": "keras", "seed": seed, "audit": _fake_audit(value)}
               for seed, value in enumerate(keras_values)])


def test_seed_summary_pairs_the_twins_by_seed():
    # Seeds are given out of order on purpose: the pairs are (seed 0, seed 0), ...
    runs = _runs([0.10, 0.12, 0.14], [0.11, 0.13, 0.15])
    summary = summarise_across_seeds(runs[::-1], frameworks=FRAMEWORKS)
    entry = summary["group_sets"]["sex"]["demographic_parity_difference"]
    torch_entry = entry["by_framework"]["torch"]
    assert torch_entry["values"] == pytest.approx([0.10, 0.12, 0.14])
    assert (torch_entry["mean"], torch_entry["sd"], torch_entry["n_seeds"]) == \
        pytest.approx((0.12, 0.02, 3))
    # Every paired difference is −0.01: no spread, a point interval inside ±0.02.
    assert entry["difference"] == pytest.approx(-0.01)
    assert entry["paired"]["ci"] == pytest.approx([-0.01, -0.01])
    assert entry["verdict"] == "equivalent" and "±0.02" in entry["text"]
    assert summary["overall"]["accuracy"]["verdict"] == "equivalent"  # identical, sd 0
    # Teeth: the same gap judged at a margin below it is a difference.
    tight = summarise_across_seeds(runs, frameworks=FRAMEWORKS,
                                   margins={**EQUIVALENCE_MARGINS, "disparity": 0.005})
    assert tight["group_sets"]["sex"]["demographic_parity_difference"]["verdict"] == "different"


def test_seed_summary_finds_a_gap_beyond_the_margin_and_needs_paired_seeds():
    apart = summarise_across_seeds(
        _runs([0.10, 0.11, 0.12], [0.20, 0.21, 0.22]), frameworks=FRAMEWORKS)
    # Disparate impact is a ratio: its margin is the ratio family's 0.05; the gap is 0.10.
    assert apart["group_sets"]["sex"]["disparate_impact"]["verdict"] == "different"
    with pytest.raises(FairnessInputError, match="seeds differ"):
        summarise_across_seeds(_runs([0.10], [0.20, 0.21]), frameworks=FRAMEWORKS)


def test_seed_summary_rejects_unknown_frameworks_and_repeated_seeds():
    with pytest.raises(FairnessInputError, match="'jax'"):
        summarise_across_seeds(
        [{"framework": "jax", "seed": 0, "audit": _fake_audit(0.1)}], frameworks=FRAMEWORKS)
    with pytest.raises(FairnessInputError, match="listed twice"):
        summarise_across_seeds(
        _runs([0.1, 0.1], [0.1]) + _runs([0.1], []), frameworks=FRAMEWORKS)


def test_seed_summary_of_real_audits():
    runs = []
    for framework, offset in (("torch", 0), ("keras", 10)):
        for seed in range(3):
            data = _synthetic(600, seed=seed + offset)
            audit = _audit(data, privileged={"sex": "Male", "race": "White"}, n_resamples=0)
            runs.append({"framework": framework, "seed": seed, "audit": audit})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = summarise_across_seeds(runs, frameworks=FRAMEWORKS)
    assert set(summary["group_sets"]) == {"sex", "race", "sex×race"}
    entry = summary["group_sets"]["sex×race"]["demographic_parity_difference"]
    assert entry["by_framework"]["keras"]["n_seeds"] == 3
    assert entry["verdict"] in ("equivalent", "undecided", "different")
    json.dumps(summary, allow_nan=False)


# --- equalized odds as fairlearn computes it -----------------------------------------------


def test_equalized_odds_counts_a_group_without_positives_as_fairlearn_does():
    # Group b has no positives: its TPR is undefined. fairlearn 0.15's true_positive_rate
    # returns 0 there, so its equalized odds difference is max(|0.5 - 0|, |0.5 - 0.25|) = 0.5.
    # Leaving b out (the old behaviour, now "_defined") gives the FPR gap alone: 0.25.
    y_true = np.array([1, 0, 1, 0, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    groups = pd.DataFrame({"g": list("aaaabbbb")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {name: oracle(y_true, y_pred, sensitive_features=groups["g"]) for name, oracle
                    in (("equalized_odds_difference", equalized_odds_difference),
                        ("equalized_odds_ratio", equalized_odds_ratio),
                        ("equal_opportunity_difference", equal_opportunity_difference),
                        ("equal_opportunity_ratio", equal_opportunity_ratio))}
    disparities = fairness_audit(y_true, y_pred, None, groups, group_sets=[["g"]],
                                 n_resamples=50, min_group_size=1)["group_sets"]["g"][
        "disparities"]
    for name, value in expected.items():
        assert disparities[name]["value"] == pytest.approx(value), name
    assert expected["equalized_odds_difference"] == pytest.approx(0.5)
    assert disparities["equalized_odds_difference_defined"]["value"] == pytest.approx(0.25)
    assert disparities["equalized_odds_difference_defined"]["metric"] == "false_positive_rate"
    assert disparities["equalized_odds_difference"]["metric"] == "true_positive_rate"
    assert disparities["equalized_odds_difference"]["worst_group"] == "b"
    assert disparities["equal_opportunity_difference_defined"]["value"] == 0.0
    assert set(DISPARITIES) <= set(disparities)


# --- the favourable outcome ----------------------------------------------------------------


@pytest.mark.parametrize("columns", [["sex"], ["sex", "race"]])
def test_favourable_zero_matches_fairlearn_on_flipped_labels(columns):
    data = _synthetic()
    flipped_true, flipped_pred = 1 - data["y_true"], 1 - data["y_pred"]
    features = data["sensitive_features"][columns]
    result = _audit(data, group_sets=[columns], n_resamples=0, favourable=0,
                    privileged={"sex": "Male", "race": "White"})
    assert result["favourable_label"] == 0
    entry = result["group_sets"][INTERSECTION_SEPARATOR.join(columns)]
    frame = MetricFrame(metrics={"selection_rate": selection_rate,
                                 "true_positive_rate": true_positive_rate},
                        y_true=flipped_true, y_pred=flipped_pred, sensitive_features=features)
    original = MetricFrame(metrics=true_positive_rate, y_true=data["y_true"],
                           y_pred=data["y_pred"], sensitive_features=features)
    for key, expected in frame.by_group.iterrows():
        label = INTERSECTION_SEPARATOR.join(key if isinstance(key, tuple) else (key,))
        metrics = entry["groups"][label]["metrics"]
        assert metrics["selection_rate"]["value"] == pytest.approx(expected["selection_rate"])
        # Error rates stay about label 1: the unflipped TPR, not the flipped one.
        assert metrics["true_positive_rate"]["value"] == pytest.approx(
            original.by_group[key])
    disparities = entry["disparities"]
    assert disparities["demographic_parity_difference"]["value"] == pytest.approx(
        demographic_parity_difference(flipped_true, flipped_pred, sensitive_features=features))
    assert disparities["demographic_parity_ratio"]["value"] == pytest.approx(
        demographic_parity_ratio(flipped_true, flipped_pred, sensitive_features=features))
    assert disparities["equalized_odds_difference"]["value"] == pytest.approx(
        equalized_odds_difference(data["y_true"], data["y_pred"], sensitive_features=features))
    # The disadvantaged group flips too: the group selected least for the favourable outcome.
    rates = {label: group["metrics"]["selection_rate"]["value"]
             for label, group in entry["groups"].items()}
    privileged = "Male" if columns == ["sex"] else "Male×White"
    lowest = min((rate, label) for label, rate in rates.items() if label != privileged)
    impact = disparities["disparate_impact"]
    assert impact["worst_group"] == lowest[1]
    assert impact["value"] == pytest.approx(lowest[0] / rates[privileged])


# --- small groups --------------------------------------------------------------------------


def test_groups_under_min_group_size_are_shown_but_left_out_of_disparities():
    data = _synthetic(3000)
    race = data["sensitive_features"]["race"].to_numpy().copy()
    race[:12] = "Tiny"
    data["y_pred"][:12] = 0  # a selection rate of 0 would set every selection disparity
    data["sensitive_features"]["race"] = race
    result = _audit(data, group_sets=[["race"]], privileged={"race": "White"},
                    min_group_size=30, n_resamples=50)
    entry = result["group_sets"]["race"]
    assert result["small_group_rows"] == 30
    assert entry["excluded_groups"] == [{"group": "Tiny", "count": 12, "reason": (
        "12 rows, fewer than min_group_size (30): shown, but left out of the disparities")}]
    tiny = entry["groups"]["Tiny"]
    assert tiny["small_group"] is True and tiny["metrics"]["selection_rate"]["value"] == 0.0
    assert tiny["metrics"]["selection_rate"]["ci"][1] > 0  # shown with its interval
    kept = [group["metrics"]["selection_rate"]["value"]
            for label, group in entry["groups"].items() if label != "Tiny"]
    disparities = entry["disparities"]
    assert disparities["demographic_parity_difference"]["value"] == pytest.approx(
        max(kept) - min(kept))
    assert disparities["disparate_impact"]["worst_group"] != "Tiny"
    everyone = _audit(data, group_sets=[["race"]], min_group_size=1, n_resamples=0)
    assert everyone["group_sets"]["race"]["disparities"]["demographic_parity_difference"][
        "value"] == pytest.approx(max(kept))  # teeth: with Tiny in, the spread is max - 0


def test_fewer_than_two_large_groups_make_disparities_not_computable():
    data = _synthetic(400)
    result = _audit(data, group_sets=[["race"], ["sex"]], privileged={"sex": "Male"},
                    min_group_size=120, n_resamples=20)
    race = result["group_sets"]["race"]
    assert race["status"] == "not_computable"
    assert "min_group_size" in race["reason"] and "at least two" in race["reason"]
    assert race["disparities"]["demographic_parity_difference"]["value"] is None
    assert all(group["metrics"]["accuracy"]["ci"] is not None
               for group in race["groups"].values())
    sex = result["group_sets"]["sex"]
    assert sex["status"] == "ok"  # Female about 160 rows, Male about 240
    # A privileged group under the size leaves disparate impact without a reference.
    small_privileged = _audit(data, group_sets=[["race"]], privileged={"race": "Other"},
                              min_group_size=50, n_resamples=0)["group_sets"]["race"]
    impact = small_privileged["disparities"]["disparate_impact"]
    assert impact["value"] is None and "'Other'" in impact["reason"]
    assert small_privileged["disparities"]["demographic_parity_difference"]["value"] is not None


# --- rate intervals, p-values and model quality in the audit -------------------------------


def test_a_group_without_positive_predictions_gets_an_exact_upper_bound():
    y_pred = np.r_[np.zeros(100, int), np.ones(100, int)]
    groups = pd.DataFrame({"g": ["a"] * 100 + ["b"] * 100})
    result = fairness_audit(y_pred, y_pred, None, groups, group_sets=[["g"]], n_resamples=50,
                            rate_interval="clopper_pearson")
    low, high = result["group_sets"]["g"]["groups"]["a"]["metrics"]["selection_rate"]["ci"]
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 100))
    assert result["rate_interval"] == "clopper_pearson"
    methods = result["interval_methods"]
    assert methods["selection_rate"] == "clopper_pearson"
    assert methods["expected_calibration_error"] == "bca_bootstrap"
    assert methods["equalized_odds_difference"] == "bca_bootstrap"
    assert set(methods) == set(GROUP_METRICS) | set(DISPARITIES)


def test_weighted_rate_intervals_use_kish_effective_counts():
    y_pred = np.array([1, 0, 0, 0, 1, 1, 0, 0, 0, 1] * 4)
    weight = np.tile([1.0, 3.0, 0.5, 2.0, 1.0], 8)
    result = fairness_audit(y_pred, y_pred, None, pd.DataFrame({"g": ["a"] * 40}),
                            group_sets=[["g"]], sample_weight=weight, n_resamples=0)
    rate = result["overall"]["metrics"]["selection_rate"]
    effective = weight.sum() ** 2 / (weight**2).sum()
    share = (weight * y_pred).sum() / weight.sum()
    scipy_wilson = _wilson_by_hand(share, effective)
    assert rate["value"] == pytest.approx(share)
    assert rate["ci"] == pytest.approx(scipy_wilson)


def _wilson_by_hand(share, n, z=1.959963984540054):
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return [centre - half, centre + half]


def test_disparity_p_values_are_chi_square_tests_of_the_driving_rates():
    from scipy import stats

    data = _synthetic(2000)
    entry = _audit(data, group_sets=[["race"]], n_resamples=0)["group_sets"]["race"]
    table = pd.crosstab(data["sensitive_features"]["race"], data["y_pred"])
    expected = stats.chi2_contingency(table.to_numpy(), correction=False).pvalue
    parity = entry["disparities"]["demographic_parity_difference"]
    assert parity["tested_rates"] == ["selection_rate"]
    assert parity["p_value"] == pytest.approx(expected)
    assert entry["disparities"]["demographic_parity_ratio"]["p_value"] == parity["p_value"]
    odds = entry["disparities"]["equalized_odds_difference"]
    assert odds["tested_rates"] == ["true_positive_rate", "false_positive_rate"]
    statistics = [stats.chi2_contingency(pd.crosstab(
        data["sensitive_features"]["race"][data["y_true"] == label],
        data["y_pred"][data["y_true"] == label]).to_numpy(), correction=False)
        for label in (1, 0)]
    combined = stats.chi2.sf(sum(s.statistic for s in statistics), sum(s.dof for s in statistics))
    assert odds["p_value"] == pytest.approx(combined)


@pytest.mark.parametrize("weighted", [False, True])
def test_model_quality_per_group_matches_sklearn_and_numpy(weighted):
    from sklearn.metrics import roc_auc_score

    data = _synthetic(3000)
    # Ties (counted one half by the AUC), none on a bin edge (where float rounding decides).
    data["y_score"] = np.minimum(np.round(data["y_score"], 2) + 0.001, 0.999)
    result = _audit(data, weighted, group_sets=[["race"]], n_resamples=0)
    assert result["score_bins"] == {"calibration": 10, "histogram": 20}
    race = data["sensitive_features"]["race"].to_numpy()
    for label, group in result["group_sets"]["race"]["groups"].items():
        rows = race == label
        weight = data["sample_weight"][rows] if weighted else None
        quality = group["model_quality"]
        assert quality["roc_auc"] == pytest.approx(roc_auc_score(
            data["y_true"][rows], data["y_score"][rows], sample_weight=weight), abs=1e-12)
        scores = data["y_score"][rows]
        histogram = np.histogram(scores, bins=20, range=(0, 1))[0]
        assert quality["score_histogram"] == histogram.tolist()
        curve = quality["calibration_curve"]
        bins = np.minimum((scores * 10).astype(int), 9)
        assert curve["rows"] == np.bincount(bins, minlength=10).tolist()
        w = np.ones(rows.sum()) if weight is None else weight
        for b in range(10):
            inside = bins == b
            if not inside.any():
                assert curve["mean_score"][b] is None
                continue
            assert curve["mean_score"][b] == pytest.approx(
                np.average(scores[inside], weights=w[inside]), abs=1e-6)
            assert curve["mean_label"][b] == pytest.approx(
                np.average(data["y_true"][rows][inside], weights=w[inside]), abs=1e-6)
    without_scores = _audit({**data, "y_score": None}, group_sets=[["race"]], n_resamples=0)
    assert without_scores["overall"]["model_quality"] is None


@pytest.mark.parametrize(("change", "expected"), [
    ({"favourable": 2}, "favourable must be 0 or 1"),
    ({"min_group_size": 0}, "min_group_size"),
    ({"rate_interval": "wald"}, "rate_interval must be one of wilson, clopper_pearson"),
])
def test_bad_options_raise_one_clear_line(change, expected):
    with pytest.raises(FairnessInputError, match=expected):
        _audit(_hand_data(), group_sets=[["group"]], **change)
