"""Do the intervals cover the truth as often as they claim? Simulations with known rates.

Everything is seeded and vectorised (one array of simulated groups per check), so the file
runs in a few seconds and gives the same figures every time. Coverage is judged against a
floor of 0.93 for a nominal 0.95 (at most 0.02 below nominal), and Clopper–Pearson, being
exact, against 0.95 itself, computed exactly from binomial probabilities.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from twinaudit.fairness.audit import disparity_intervals, fairness_audit
from twinaudit.fairness.counts import CellSums, group_metrics
from twinaudit.fairness.intervals import rate_interval

from helpers import prediction_rows

RATES = (0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0)
SIZES = (5, 30, 100, 1000)
GROUPS = 5_000  # simulated groups per (rate, size): 140,000 in all
FLOOR = 0.93


def _covered(low, high, truth):
    return (low <= truth) & (truth <= high)


@pytest.mark.parametrize("method", ["wilson", "clopper_pearson"])
def test_simulated_coverage_of_rate_intervals(method):
    random = np.random.default_rng(20240601)
    rates = np.array(RATES)[:, None]
    coverage = {}
    for n in SIZES:
        successes = random.binomial(n, rates, size=(len(RATES), GROUPS)).astype(float)
        low, high = rate_interval(successes, np.full(successes.shape, float(n)), method=method)
        for p, share in zip(RATES, _covered(low, high, rates).mean(axis=1), strict=True):
            coverage[p, n] = share
    # Simulation error of a share near 0.95 from 5,000 groups: about 0.003.
    floor = 0.95 - 3 * np.sqrt(0.95 * 0.05 / GROUPS) if method == "clopper_pearson" else FLOOR
    low_cells = {cell: share for cell, share in coverage.items() if share < floor}
    assert not low_cells, low_cells
    # Teeth: a plain Wald interval, p ± 1.96·sqrt(p(1-p)/n), fails the same check.
    successes = random.binomial(30, 0.1, GROUPS)
    share = successes / 30
    half = 1.96 * np.sqrt(share * (1 - share) / 30)
    assert _covered(share - half, share + half, 0.1).mean() < FLOOR


@pytest.mark.parametrize("method", ["wilson", "clopper_pearson"])
def test_exact_coverage_of_rate_intervals(method):
    """The exact coverage, summing binomial probabilities over the outcomes covered."""
    for n in SIZES:
        successes = np.arange(n + 1, dtype=float)
        low, high = rate_interval(successes, np.full(n + 1, float(n)), method=method)
        for p in RATES:
            exact = stats.binom.pmf(successes, n, p)[_covered(low, high, p)].sum()
            assert exact >= (0.95 - 1e-9 if method == "clopper_pearson" else FLOOR), (p, n)


def test_simulated_coverage_of_weighted_rates_with_effective_counts():
    # Rows with exponential weights, independent of the outcome: the weighted rate estimates
    # p, with Kish's effective sample size about n / 2.
    random = np.random.default_rng(7)
    for n in (30, 100, 1000):
        groups = 2_000
        weight = random.exponential(1.0, (groups, n))
        effective = weight.sum(axis=1) ** 2 / (weight**2).sum(axis=1)
        for p in RATES:
            outcome = random.random((groups, n)) < p
            rate = (weight * outcome).sum(axis=1) / weight.sum(axis=1)
            low, high = rate_interval(rate * effective, effective)
            assert _covered(low, high, p).mean() >= FLOOR, (p, n)


# --- a disparity with known truth ---------------------------------------------------------


def _cells(selected, n):
    """Cell sums of groups whose rows are all predicted as labelled: ``selected`` of ``n``
    rows in cell (1, 1), the rest in (0, 0); any leading axes are kept."""
    rows = np.zeros((*np.shape(selected), 1, 2, 2))
    rows[..., 0, 1, 1] = selected
    rows[..., 0, 0, 0] = n - np.asarray(selected)
    return CellSums(rows, rows, None)


def _two_group_disparities(rate_a, rate_b, n, data_sets, resamples, seed):
    """Coverage of the audit's disparity intervals for two groups with known selection rates.

    Each simulated data set has n rows per group, group a privileged. The bootstrap redraws
    each group's count of selected rows (Binomial(n, observed rate): what the stratified
    bootstrap does to those counts), and the jackknife leaves out one selected or one
    unselected row of a group; the intervals are those of
    :func:`twinaudit.fairness.audit.disparity_intervals`, for all data sets at once.
    """
    random = np.random.default_rng(seed)
    truth = {"demographic_parity_difference": abs(rate_a - rate_b),
             "demographic_parity_ratio": min(rate_a, rate_b) / max(rate_a, rate_b),
             "disparate_impact": rate_b / rate_a,
             "statistical_parity_difference": rate_b - rate_a}
    selected = random.binomial(n, [rate_a, rate_b], size=(data_sets, 2))  # (M, 2)
    resampled = random.binomial(n, selected / n, size=(resamples, data_sets, 2))
    left_selected, left_sizes, rows = [], [], []
    for group in (0, 1):
        for selected_row in (1, 0):
            counts = selected.astype(float)
            counts[:, group] -= selected_row
            sizes = np.full(counts.shape, float(n))
            sizes[:, group] -= 1
            left_selected.append(counts)
            left_sizes.append(sizes)
            rows.append(selected[:, group] if selected_row else n - selected[:, group])
    point = group_metrics(_cells(selected, n))
    again = group_metrics(_cells(resampled, n))
    left_out = group_metrics(_cells(np.stack(left_selected), np.stack(left_sizes)))
    intervals = disparity_intervals(point, again, left_out, np.stack(rows), privileged_index=0)
    values = {name: intervals[name] for name in truth}
    coverage = {}
    for name, (low, high) in values.items():
        coverage[name] = float(_covered(low, high, truth[name]).mean())
    return coverage


@pytest.mark.slow  # 2,000 simulated data sets x 1,000 resamples each (14 s for the four)
@pytest.mark.parametrize(("rate_a", "rate_b"), [(0.30, 0.45), (0.05, 0.10), (0.30, 0.33),
                                                (0.30, 0.30)])
def test_simulated_coverage_of_disparity_intervals_with_known_truth(rate_a, rate_b):
    # Two groups of 300 rows; the last two cases have a true spread near and at 0, where a
    # max - min difference is not a smooth statistic (the anchored lower bound handles it).
    coverage = _two_group_disparities(rate_a, rate_b, 300, data_sets=2_000, resamples=1_000,
                                      seed=1)
    assert min(coverage.values()) >= FLOOR, coverage


# --- every interval of an audit holds its estimate -----------------------------------------

audit_inputs = prediction_rows(
    4, 80, "abcd",
    lambda n_rows: st.none() | st.lists(st.floats(0.1, 5), min_size=n_rows, max_size=n_rows),
    st.integers(0, 1), st.integers(1, 12), st.sampled_from(["wilson", "clopper_pearson"]),
    st.integers(0, 2**16),
)


@settings(max_examples=80, deadline=None)
@given(audit_inputs)
def test_every_interval_of_an_audit_contains_its_point_estimate(data):
    y_true, y_pred, groups, y_score, weights, favourable, min_group_size, method, seed = data
    result = fairness_audit(
        y_true, y_pred, y_score, pd.DataFrame({"g": groups, "h": groups[::-1]}),
        group_sets=[["g"], ["g", "h"]], privileged={"g": groups[0], "h": groups[-1]},
        sample_weight=weights, n_resamples=60, random_state=seed, favourable=favourable,
        min_group_size=min_group_size, rate_interval=method,
    )
    checked = 0
    entries = [("overall", result["overall"])]
    for name, group_set in result["group_sets"].items():
        entries += [(f"{name}/{label}", group) for label, group in group_set["groups"].items()]
        for disparity, entry in group_set["disparities"].items():
            if entry["value"] is None or disparity == "four_fifths_rule_violated":
                continue
            low, high = entry["ci"]
            assert low - 1e-9 <= entry["value"] <= high + 1e-9, (name, disparity)
            checked += 1
    for where, group in entries:
        for metric, entry in group["metrics"].items():
            if entry["value"] is None:
                continue
            low, high = entry["ci"]
            assert low - 1e-9 <= entry["value"] <= high + 1e-9, (where, metric)
            if result["interval_methods"][metric] == method:
                assert low < high, (where, metric)  # a rate's interval is never zero-width
            checked += 1
    assert checked > 0
