"""Tests of twinaudit.gate.timing: max_ratio checks and the bootstrap interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinaudit.gate.errors import Verdict
from twinaudit.gate.evaluation import evaluate
from twinaudit.gate.timing import bootstrap_ratio_of_medians

TIMING_RULE = 'path = "benchmarks.rows[name=step].samples_s"\nmax_ratio = 1.05'


def timings(center: float, count: int, seed: int, spread: float = 0.03) -> list[float]:
    return np.random.default_rng(seed).lognormal(np.log(center), spread, count).tolist()


@pytest.fixture
def with_timings(make_results):
    """``with_timings(samples, reference=None)``: the results plus a row ``name=step``."""

    def build(samples: list[float], reference: list[float] | None = None) -> dict[str, Any]:
        results = make_results()
        row: dict[str, Any] = {"name": "step", "samples_s": samples}
        if reference is not None:
            row["reference_samples_s"] = reference
        results["benchmarks"]["rows"].append(row)
        return results

    return build


def test_clearly_slower_timings_fail_against_the_baseline(
    tmp_path: Path, one_rule, with_timings
) -> None:
    rules = one_rule(tmp_path, TIMING_RULE)
    results = with_timings(timings(0.060, 20, seed=1))
    baseline = with_timings(timings(0.040, 20, seed=2))
    [check] = evaluate(results, baseline, rules).checks
    assert check.verdict is Verdict.FAIL
    assert check.value == pytest.approx(1.5, rel=0.05)


@pytest.mark.parametrize("seed", range(5))
def test_identical_distributions_never_fail(
    tmp_path: Path, seed: int, one_rule, with_timings
) -> None:
    rules = one_rule(tmp_path, TIMING_RULE)
    results = with_timings(timings(0.040, 20, seed=seed))
    baseline = with_timings(timings(0.040, 20, seed=seed + 100))
    [check] = evaluate(results, baseline, rules).checks
    assert check.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)


def test_identical_samples_with_zero_tolerance_are_inconclusive_not_pass(
    tmp_path: Path, one_rule, with_timings
) -> None:
    rules = one_rule(tmp_path, 'path = "benchmarks.rows[name=step].samples_s"\nmax_ratio = 1.0')
    samples = timings(0.040, 20, seed=3)
    [check] = evaluate(with_timings(samples), with_timings(list(samples)), rules).checks
    assert check.verdict is Verdict.INCONCLUSIVE
    assert "straddles" in check.message


def test_tiny_samples_are_inconclusive(tmp_path: Path, one_rule, with_timings) -> None:
    rules = one_rule(tmp_path, TIMING_RULE)
    results = with_timings([0.9, 1.0, 1.1])
    baseline = with_timings([0.09, 0.10, 0.11])
    report = evaluate(results, baseline, rules)
    [check] = report.checks
    assert check.verdict is Verdict.INCONCLUSIVE
    assert "too few samples" in check.message
    assert report.exit_code == 0
    strict = evaluate(results, baseline, rules, inconclusive_fails=True)
    assert strict.exit_code == 1


def test_ratio_against_same_run_reference_needs_no_baseline(
    tmp_path: Path, one_rule, with_timings
) -> None:
    rules = one_rule(tmp_path, TIMING_RULE + '\nreference_sibling = "reference_samples_s"')
    slow = with_timings(timings(0.080, 15, seed=4), timings(0.040, 15, seed=5))
    fast = with_timings(timings(0.040, 15, seed=6), timings(0.040, 15, seed=7))
    assert evaluate(slow, None, rules).checks[0].verdict is Verdict.FAIL
    assert evaluate(fast, None, rules).checks[0].verdict is not Verdict.FAIL


def test_timing_samples_that_are_not_timings_fail(tmp_path: Path, one_rule, with_timings) -> None:
    rules = one_rule(tmp_path, TIMING_RULE + '\nreference_sibling = "reference_samples_s"')
    results = with_timings([0.1] * 10, [0.1] * 9 + [-1.0])
    [check] = evaluate(results, None, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "reference samples" in check.message


def test_bootstrap_interval_brackets_the_ratio_and_is_deterministic() -> None:
    current, reference = timings(0.05, 30, seed=8), timings(0.04, 30, seed=9)
    first = bootstrap_ratio_of_medians(current, reference)
    estimate, low, high = first
    assert low <= estimate <= high
    assert estimate == pytest.approx(1.25, rel=0.05)
    assert bootstrap_ratio_of_medians(current, reference) == first
