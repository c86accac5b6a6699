"""Interval formulas of twinaudit.fairness.intervals against scipy and hand-worked values."""

import numpy as np
import pytest
from scipy import stats

from twinaudit.fairness.intervals import bca_interval, rate_interval


def test_clopper_pearson_of_no_positives_in_100_rows_is_not_zero_width():
    low, high = rate_interval(np.array([0.0]), np.array([100.0]), method="clopper_pearson")
    # Exact: the upper bound solves P(X = 0 | p) = 0.025, p = 1 - 0.025 ** (1 / 100).
    assert low[0] == 0.0
    assert high[0] == pytest.approx(1 - 0.025 ** (1 / 100), rel=1e-9)
    assert high[0] == pytest.approx(0.036, abs=0.001)


@pytest.mark.parametrize("method, scipy_method", [("clopper_pearson", "exact"),
                                                   ("wilson", "wilson")])
def test_rate_intervals_match_scipy(method, scipy_method):
    n = 60
    # Wilson's bounds are modified for 1 to 3 successes or failures (1 to 2 when n <= 50);
    # elsewhere it is plain Wilson, as scipy computes it.
    successes = np.arange(0, n + 1) if method == "clopper_pearson" else np.arange(4, n - 3)
    low, high = rate_interval(successes.astype(float), np.full(len(successes), float(n)),
                              method=method, confidence=0.9)
    for k, lo, hi in zip(successes, low, high, strict=True):
        expected = stats.binomtest(int(k), n).proportion_ci(0.9, method=scipy_method)
        assert (lo, hi) == pytest.approx((expected.low, expected.high), abs=1e-9), k


def test_modified_wilson_uses_the_exact_poisson_bound_near_zero():
    # 1 success in 100: plain Wilson's lower bound (scipy) is above the Poisson one, which is
    # the 2.5 % quantile of a Gamma(1) over n: -log(0.975) / 100.
    low, high = rate_interval(np.array([1.0, 99.0]), np.array([100.0, 100.0]))
    plain = stats.binomtest(1, 100).proportion_ci(method="wilson")
    assert low[0] == pytest.approx(-np.log(0.975) / 100, rel=1e-9) and low[0] < plain.low
    assert high[1] == pytest.approx(1 + np.log(0.975) / 100, rel=1e-9)  # mirrored
    assert high[0] == pytest.approx(plain.high, rel=1e-9)


@pytest.mark.parametrize("method", ["wilson", "clopper_pearson"])
def test_rate_intervals_contain_the_estimate_and_are_never_zero_width(method):
    random = np.random.default_rng(0)
    trials = np.concatenate([random.uniform(0.5, 500, 500), [1, 1, 2, 7.3]])
    successes = np.concatenate([random.uniform(0, 1, 500) * trials[:500], [0, 1, 2, 7.3]])
    successes[:50] = 0
    successes[50:100] = trials[50:100]  # rates of exactly 0 and 1
    low, high = rate_interval(successes, trials, method=method)
    share = successes / trials
    assert np.all(low <= share) and np.all(share <= high)
    assert np.all(high - low > 0) and np.all(low >= 0) and np.all(high <= 1)
    # No trials: no interval.
    nothing = rate_interval(np.array([0.0]), np.array([0.0]), method=method)
    assert np.isnan(nothing[0][0]) and np.isnan(nothing[1][0])


def test_an_unknown_rate_method_is_an_error():
    with pytest.raises(ValueError, match="wilson"):
        rate_interval(np.array([1.0]), np.array([2.0]), method="wald")


def test_bca_matches_scipy_on_scipys_own_resamples():
    data = np.random.default_rng(1).exponential(1.0, 40)  # skewed: bias and acceleration
    result = stats.bootstrap((data,), np.mean, method="BCa", n_resamples=4000,
                             confidence_level=0.9, random_state=2)
    jackknife = (data.sum() - data) / (len(data) - 1)  # each row left out once
    low, high = bca_interval(result.bootstrap_distribution, np.array(data.mean()),
                             jackknife, np.ones(len(data)), confidence=0.9)
    assert (float(low), float(high)) == pytest.approx(
        (result.confidence_interval.low, result.confidence_interval.high), rel=1e-6)


def test_bca_acceleration_uses_row_counts_of_the_jackknife():
    # The same 40 jackknife values, once listed row by row and once as distinct values with
    # their counts (as leave_one_out gives them): the same interval.
    data = np.repeat([0.0, 1.0, 3.0], [20, 15, 5])
    resamples = np.random.default_rng(3).choice(data, (2000, len(data))).mean(axis=1)
    jackknife = (data.sum() - data) / (len(data) - 1)
    by_row = bca_interval(resamples, np.array(data.mean()), jackknife, np.ones(40))
    distinct, counts = np.unique(jackknife, return_counts=True)
    by_value = bca_interval(resamples, np.array(data.mean()), distinct, counts)
    assert np.allclose(by_row, by_value, rtol=0, atol=1e-12)


def test_boundary_rule_makes_a_spread_at_zero_one_sided():
    # The case that motivated it: an estimated max - min spread of 0.00011 whose resamples
    # all lie above it (a percentile interval gave [0.009, 0.196]).
    resamples = np.random.default_rng(4).uniform(0.009, 0.196, 1000)
    point = np.array(0.00011)
    jackknife = np.full(10, 0.00011)
    low, high = bca_interval(resamples, point, jackknife, np.ones(10), floor=0.0)
    assert float(low) == 0.0  # the floor: not distinguishable from no spread
    assert float(high) == pytest.approx(np.quantile(resamples, 0.95))  # one-sided 95 %
    # Without a natural bound the interval starts at the estimate.
    low, _ = bca_interval(resamples, point, jackknife, np.ones(10))
    assert float(low) == pytest.approx(0.00011)
    # A ratio whose resamples are all below its estimate 1 ends at the ceiling.
    below = 1 - resamples
    low, high = bca_interval(below, np.array(1.0), np.ones(10), np.ones(10), ceiling=1.0)
    assert float(high) == 1.0 and float(low) == pytest.approx(np.quantile(below, 0.05))


def test_bca_leaves_undefined_resamples_out_and_is_nan_without_any():
    resamples = np.column_stack([np.linspace(0, 1, 201), np.full(201, np.nan)])
    resamples[::2, 0] = np.nan
    point = np.array([0.5, 0.3])
    low, high = bca_interval(resamples, point, np.tile(point, (3, 1)), np.ones(3))
    assert low[0] < 0.5 < high[0]
    assert np.isnan(low[1]) and np.isnan(high[1])
