"""Homogeneity tests and Holm / Benjamini–Hochberg adjustment of twinaudit.fairness.multiplicity."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from twinaudit.fairness.audit import fairness_audit
from twinaudit.fairness.multiplicity import adjust, flag_run, homogeneity_p_value


def test_holm_and_benjamini_hochberg_by_hand():
    p_values = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04,
    # made non-decreasing: 0.02, 0.03, 0.06, 0.06.
    assert adjust(p_values, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: times 4/1, 4/2, 4/3, 4/4 = 0.02, 0.02, 0.04, 0.04, non-increasing from the top.
    assert adjust(p_values, "benjamini_hochberg") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust(p_values, "none") == pytest.approx(p_values)
    assert adjust([0.6, 0.9], "holm") == pytest.approx([1.0, 1.0])  # capped at 1


def _holm_by_definition(p):
    m, order = len(p), np.argsort(p, kind="stable")
    rank = np.empty(m, int)
    rank[order] = np.arange(1, m + 1)
    return np.array([max(min(1, (m - rank[j] + 1) * p[j]) for j in range(m) if rank[j] <= rank[i])
                     for i in range(m)])


def _bh_by_definition(p):
    m, order = len(p), np.argsort(p, kind="stable")
    rank = np.empty(m, int)
    rank[order] = np.arange(1, m + 1)
    return np.array([min(min(1, m * p[j] / rank[j]) for j in range(m) if rank[j] >= rank[i])
                     for i in range(m)])


def test_adjustments_match_their_definitions_and_skip_undefined_values():
    random = np.random.default_rng(0)
    for _ in range(20):
        p = random.uniform(0, 0.2, random.integers(1, 30))
        assert adjust(p, "holm") == pytest.approx(_holm_by_definition(p))
        assert adjust(p, "benjamini_hochberg") == pytest.approx(_bh_by_definition(p))
    # A NaN (an untested disparity) is neither adjusted nor counted among the m tests.
    adjusted = adjust([0.01, np.nan, 0.02], "holm")
    assert np.isnan(adjusted[1]) and adjusted[[0, 2]] == pytest.approx([0.02, 0.02])
    with pytest.raises(ValueError, match="holm"):
        adjust([0.1], "bonferroni")


def test_homogeneity_p_value_is_pearsons_chi_square_test():
    successes, trials = np.array([30.0, 45.0, 12.0]), np.array([100.0, 110.0, 60.0])
    table = np.column_stack([successes, trials - successes])
    expected = stats.chi2_contingency(table, correction=False)
    assert homogeneity_p_value([(successes, trials)]) == pytest.approx(expected.pvalue)
    # Two disjoint tables (TPR among positives, FPR among negatives): statistics add.
    other = np.array([5.0, 9.0, 2.0]), np.array([40.0, 35.0, 30.0])
    second = stats.chi2_contingency(np.column_stack([other[0], other[1] - other[0]]),
                                    correction=False)
    combined = stats.chi2.sf(expected.statistic + second.statistic, expected.dof + second.dof)
    assert homogeneity_p_value([(successes, trials), other]) == pytest.approx(combined)


def test_homogeneity_edge_cases():
    # A group without trials is left out; the same rate everywhere is no evidence at all.
    assert homogeneity_p_value([(np.array([0.0, 0.0]), np.array([50.0, 20.0]))]) == 1.0
    with_empty = homogeneity_p_value([(np.array([10.0, 20.0, 0.0]),
                                       np.array([50.0, 50.0, 0.0]))])
    without = homogeneity_p_value([(np.array([10.0, 20.0]), np.array([50.0, 50.0]))])
    assert with_empty == pytest.approx(without) and without < 0.05
    assert np.isnan(homogeneity_p_value([(np.array([3.0]), np.array([9.0]))]))


def _variant(shift: float, seed: int) -> dict:
    random = np.random.default_rng(seed)
    n = 800
    sex = random.choice(["F", "M"], n)
    y_true = random.integers(0, 2, n)
    y_pred = (random.random(n) < 0.4 + shift * (sex == "M")).astype(int)
    audit = fairness_audit(y_true, y_pred, None, pd.DataFrame({"sex": sex}),
                           group_sets=[["sex"]], privileged={"sex": "M"}, n_resamples=20)
    return {"twins": {"torch": {"0": audit}}}


def test_flag_run_adjusts_every_test_of_a_run_once():
    run = {"baseline": _variant(0.25, 1), "mitigated": _variant(0.0, 2)}
    summary = flag_run(run, "holm", alpha=0.05)
    # Per variant the distinct tests are the selection rate, TPR, TPR + FPR and precision.
    assert summary == {"method": "holm", "alpha": 0.05, "comparisons": 8,
                       "flagged": summary["flagged"]}
    disparities = {variant: result["twins"]["torch"]["0"]["group_sets"]["sex"]["disparities"]
                   for variant, result in run.items()}
    raw = {(variant, tuple(entry["tested_rates"])): entry["p_value"]
           for variant, entries in disparities.items() for name, entry in entries.items()
           if name != "four_fifths_rule_violated"}
    assert len(raw) == 8
    expected = dict(zip(raw, adjust(list(raw.values()), "holm"), strict=True))
    for variant, entries in disparities.items():
        for name, entry in entries.items():
            if name == "four_fifths_rule_violated":
                assert "p_adjusted" not in entry
                continue
            key = (variant, tuple(entry["tested_rates"]))
            assert entry["p_adjusted"] == pytest.approx(expected[key]), name
            assert entry["nonzero"] is bool(expected[key] < 0.05)
    # A 25-point selection gap in 800 rows is found; no gap in the mitigated variant.
    assert disparities["baseline"]["demographic_parity_difference"]["nonzero"] is True
    assert disparities["mitigated"]["demographic_parity_difference"]["nonzero"] is False
    assert summary["flagged"] == sum(value < 0.05 for value in expected.values())
    assert run["baseline"]["multiplicity"] == summary


def test_flag_run_rejects_an_unknown_method_before_writing():
    run = {"baseline": _variant(0.1, 3)}
    with pytest.raises(ValueError, match="multiplicity method"):
        flag_run(run, "fdr")
    entry = run["baseline"]["twins"]["torch"]["0"]["group_sets"]["sex"]["disparities"][
        "disparate_impact"]
    assert "p_adjusted" not in entry
