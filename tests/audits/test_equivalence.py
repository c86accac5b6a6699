"""The paired equivalence statistics: checked against scipy, by hand, and by simulation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from twinaudit.audits.equivalence import margin_for, paired_equivalence, seed_spread
from twinaudit.spec.sections import EQUIVALENCE_MARGINS, RELATIVE_MARGINS


def judge(d, margin, alpha=0.05):
    """paired_equivalence of the differences ``d`` (other = 0 on every seed)."""
    return paired_equivalence(list(d), [0.0] * len(d), margin=margin, alpha=alpha)


def with_moments(n, mean, sd, seed=0):
    """``n`` values whose sample mean and sd (ddof=1) are exactly ``mean`` and ``sd``."""
    z = np.random.default_rng(seed).normal(size=n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + sd * z


# --- against scipy and by hand -------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_interval_and_one_sided_p_values_match_scipy(seed):
    rng = np.random.default_rng(seed)
    reference = rng.normal(0.8, 0.02, 12)
    other = reference - rng.normal(0.003, 0.004, 12)
    margin = 0.01
    result = paired_equivalence(reference.tolist(), other.tolist(), margin=margin)
    d = reference - other
    ci = stats.ttest_1samp(d, 0).confidence_interval(confidence_level=0.90)
    assert result["ci"] == pytest.approx([ci.low, ci.high], rel=1e-12)
    p_lower = stats.ttest_1samp(d, -margin, alternative="greater").pvalue
    p_upper = stats.ttest_1samp(d, margin, alternative="less").pvalue
    assert result["p_lower"] == pytest.approx(p_lower, rel=1e-9)
    assert result["p_upper"] == pytest.approx(p_upper, rel=1e-9)
    assert result["p_tost"] == max(result["p_lower"], result["p_upper"])
    assert result["differences"] == pytest.approx(d.tolist())
    assert result["sd"] == pytest.approx(d.std(ddof=1))
    assert result["ci_level"] == pytest.approx(0.90)


def test_a_hand_worked_example():
    # d = [0.001, -0.002, 0.0005]: mean = -0.0005/3 = -1.6667e-4; squared deviations
    # 1.3611e-6 + 3.3611e-6 + 4.4444e-7 = 5.1667e-6, so sd = sqrt(5.1667e-6 / 2) = 1.60728e-3
    # and se = sd/sqrt(3) = 9.27962e-4. t_{0.95, 2} = 2.919986 (t table), half-width 2.70965e-3:
    # 90 % CI [-2.87631e-3, 2.54298e-3], inside ±0.01: equivalent. With 2 df the t tail is
    # closed-form, P(T >= t) = (1 - t/sqrt(t² + 2))/2: t_lower = (mean + 0.01)/se = 10.5968 gives
    # p_lower = 0.004392; t_upper = (mean - 0.01)/se = -10.9559 gives p_upper = 0.0041145.
    result = paired_equivalence([0.801, 0.798, 0.8005], [0.8, 0.8, 0.8], margin=0.01)
    assert result["n_seeds"] == 3
    assert result["mean"] == pytest.approx(-1.6667e-4, rel=1e-4)
    assert result["sd"] == pytest.approx(1.60728e-3, rel=1e-5)
    assert result["ci"] == pytest.approx([-2.87631e-3, 2.54298e-3], rel=1e-4)
    assert result["p_lower"] == pytest.approx(0.004392, rel=1e-3)
    assert result["p_upper"] == pytest.approx(0.0041145, rel=1e-3)
    assert result["p_tost"] == pytest.approx(0.004392, rel=1e-3)
    assert result["verdict"] == "equivalent"
    assert result["seeds_needed"] is None and result["more_seeds_needed"] is None
    assert result["text"] == "equivalent within ±0.01 (90 % CI [-0.00288, 0.00254])"
    json.dumps(result, allow_nan=False)  # JSON-ready


def test_texts_of_the_other_verdicts():
    different = judge(with_moments(6, 0.035, 0.01), 0.01)
    assert different["verdict"] == "different"
    lo, hi = different["ci"]
    assert different["text"] == f"different (90 % CI [{lo:.3g}, {hi:.3g}] outside ±0.01)"
    undecided = judge(with_moments(5, 0.002, 0.01), 0.01)
    assert undecided["verdict"] == "undecided"
    assert undecided["text"] == f"undecided ({undecided['more_seeds_needed']} more seeds needed)"


# --- simulations with a known truth --------------------------------------------------------

N, SIGMA, SIMS = 10, 1.0, 2000
MARGIN = 3 * SIGMA / math.sqrt(N)


def verdicts(true_mean, seed):
    rng = np.random.default_rng(seed)
    reference = rng.normal(5.0, 3.0, (SIMS, N))  # the shared seed effect, cancelled by pairing
    other = reference - rng.normal(true_mean, SIGMA, (SIMS, N))
    return np.array([paired_equivalence(r, o, margin=MARGIN)["verdict"]
                     for r, o, in zip(reference, other, strict=True)])


def test_equivalence_is_found_with_the_expected_power_when_the_truth_is_zero():
    # The expected power, P(|d̄| + t*·s/√n < margin), from a large vectorised simulation of
    # the formula itself (independent of the code under test).
    d = np.random.default_rng(99).normal(0, SIGMA, (200_000, N))
    half = stats.t.ppf(0.95, N - 1) * d.std(axis=1, ddof=1) / math.sqrt(N)
    power = float(np.mean(np.abs(d.mean(axis=1)) + half < MARGIN))
    assert power > 0.7  # about 0.74
    found = np.mean(verdicts(0.0, seed=1) == "equivalent")
    assert found >= power - 3 * math.sqrt(power * (1 - power) / SIMS)


def test_equivalence_is_declared_at_most_alpha_of_the_time_at_the_margin():
    # TOST's size guarantee: a true difference of exactly the margin is called equivalent in
    # at most α = 5 % of the samples (0.07 leaves room for simulation noise).
    assert np.mean(verdicts(MARGIN, seed=2) == "equivalent") <= 0.07
    assert np.mean(verdicts(-MARGIN, seed=3) == "equivalent") <= 0.07


def test_a_difference_of_three_margins_is_found_different():
    assert np.mean(verdicts(3 * MARGIN, seed=4) == "different") >= 0.95


def test_shifting_the_other_twin_by_two_margins_makes_equivalent_different():
    rng = np.random.default_rng(5)
    reference = rng.normal(0.85, 0.02, 10)
    other = reference - rng.normal(0, 0.003, 10)
    margin = 0.01
    assert paired_equivalence(reference, other, margin=margin)["verdict"] == "equivalent"
    shifted = paired_equivalence(reference, other + 2 * margin, margin=margin)
    assert shifted["verdict"] == "different"


# --- seeds needed --------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "mean", "sd", "margin"),
                         [(5, 0.002, 0.01, 0.01), (3, -0.004, 0.004, 0.01),
                          (10, 0.006, 0.008, 0.01), (4, 0.0, 0.05, 0.02)])
def test_seeds_needed_is_the_first_number_of_seeds_that_suffices(n, mean, sd, margin):
    result = judge(with_moments(n, mean, sd), margin)
    assert result["verdict"] == "undecided"
    needed = result["seeds_needed"]
    assert needed is not None and result["more_seeds_needed"] == needed - n > 0
    assert judge(with_moments(needed, mean, sd, seed=1), margin)["verdict"] == "equivalent"
    assert judge(with_moments(needed - 1, mean, sd, seed=1), margin)["verdict"] == "undecided"


def test_no_seeds_can_help_when_the_mean_is_beyond_the_margin():
    result = judge(with_moments(4, 0.012, 0.01), 0.01)
    assert result["verdict"] == "undecided"  # the interval straddles +margin
    assert result["seeds_needed"] is None and result["more_seeds_needed"] is None
    assert "cannot show equivalence" in result["reason"]


def test_seeds_needed_beyond_the_cap_is_none_with_a_reason():
    result = judge(with_moments(3, 0.0099, 0.05), 0.01)
    assert result["verdict"] == "undecided" and result["seeds_needed"] is None
    assert "more than 1000 seeds" in result["reason"]


# --- special cases -------------------------------------------------------------------------

def test_identical_twins_are_equivalent_without_variance():
    accuracy = [0.81, 0.83, 0.82, 0.80]
    result = paired_equivalence(accuracy, accuracy, margin=0.01)
    assert result["verdict"] == "equivalent"
    assert result["sd"] == 0 and result["ci"] == [0.0, 0.0]
    assert result["p_tost"] == 0.0
    assert "zero variance" in result["reason"]


@pytest.mark.parametrize(("gap", "verdict"), [(0.1, "equivalent"), (0.3, "different"),
                                              (-0.3, "different"), (0.2, "undecided")])
def test_a_constant_difference_is_judged_against_the_margin(gap, verdict):
    # 0.1 * 7 does not sum back to 0.7 exactly: a zero variance must still be seen as zero.
    result = judge([gap] * 7, margin=0.2)
    assert result["verdict"] == verdict
    assert result["sd"] == 0.0 and result["mean"] == gap and result["ci"] == [gap, gap]


@pytest.mark.parametrize("d", [[], [0.0], [0.001]])
def test_fewer_than_two_seeds_is_never_equivalent(d):
    result = judge(d, margin=0.01)
    assert result["verdict"] == "undecided"
    assert result["reason"] == "needs at least two seeds with values in both frameworks"
    assert result["ci"] is None and result["seeds_needed"] is None
    assert result["n_seeds"] == len(d)


def test_pairs_with_a_missing_value_are_dropped():
    reference = [0.80, None, 0.82, float("nan"), 0.81, 0.79]
    other = [0.80, 0.70, float("nan"), 0.60, 0.81, None]
    result = paired_equivalence(reference, other, margin=0.01)
    assert result["n_seeds"] == 2 and result["differences"] == [0.0, 0.0]
    assert result["verdict"] == "equivalent"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="reference values"):
        paired_equivalence([1.0, 2.0], [1.0], margin=0.1)
    for margin, alpha in [(0.0, 0.05), (float("nan"), 0.05), (0.1, 0.5)]:
        with pytest.raises(ValueError, match="margin > 0"):
            paired_equivalence([1.0, 2.0], [1.0, 2.0], margin=margin, alpha=alpha)


@settings(max_examples=300, deadline=None)
@given(d=st.lists(st.floats(-1, 1), max_size=30), margin=st.floats(1e-3, 1),
       alpha=st.sampled_from([0.01, 0.05, 0.1]))
def test_verdicts_agree_with_the_interval(d, margin, alpha):
    result = judge(d, margin, alpha)
    if result["ci"] is None:
        assert result["verdict"] == "undecided"
        return
    lo, hi = result["ci"]
    assert (result["verdict"] == "equivalent") == (-margin < lo and hi < margin)
    if result["verdict"] == "different":
        assert lo > margin or hi < -margin  # the interval misses [-margin, margin]
    if abs(result["p_tost"] - alpha) > 1e-9:  # TOST p-value and interval tell the same story
        assert (result["p_tost"] < alpha) == (result["verdict"] == "equivalent")
    json.dumps(result, allow_nan=False)


# --- seed spread ---------------------------------------------------------------------------

def test_seed_spread_interval_by_hand():
    # values 1..4: (n-1)·s² = 5; chi-square quantiles with 3 df (table): 0.95 -> 7.814727903,
    # 0.05 -> 0.351846318, so the 90 % interval of sigma is [sqrt(5/7.8147), sqrt(5/0.35185)].
    result = seed_spread([1.0, 2.0, None, 3.0, float("nan"), 4.0])
    assert result["n_seeds"] == 4 and result["mean"] == 2.5
    assert result["sd"] == pytest.approx(math.sqrt(5 / 3))
    assert result["sd_interval"] == pytest.approx(
        [math.sqrt(5 / 7.814727903), math.sqrt(5 / 0.351846318)], rel=1e-8)


def test_seed_spread_interval_covers_the_true_sd_at_its_level():
    rng = np.random.default_rng(6)
    sigma = 2.0
    covered = [lo <= sigma <= hi for lo, hi in
               (seed_spread(rng.normal(1.0, sigma, 8))["sd_interval"] for _ in range(SIMS))]
    assert abs(np.mean(covered) - 0.90) < 0.025


@pytest.mark.parametrize("values", [[], [0.8], [0.8, None]])
def test_seed_spread_needs_two_values(values):
    result = seed_spread(values)
    assert result["sd"] is None and result["sd_interval"] is None and result["reason"]


# --- default margins -----------------------------------------------------------------------

def test_every_family_has_a_positive_default_margin():
    assert RELATIVE_MARGINS <= set(EQUIVALENCE_MARGINS)
    assert all(margin > 0 for margin in EQUIVALENCE_MARGINS.values())
    assert margin_for("accuracy", EQUIVALENCE_MARGINS) == 0.01


def test_the_reconstruction_margin_is_relative_to_the_reference_error():
    assert margin_for("reconstruction_error", EQUIVALENCE_MARGINS,
                      [0.4, 0.6, None]) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="relative"):
        margin_for("reconstruction_error", EQUIVALENCE_MARGINS, [])
