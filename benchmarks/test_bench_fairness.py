"""The fairness audit with 1,000 bootstrap resamples against fairlearn's MetricFrame bootstrap.

Data: the real Adult test split (16,281 rows) with a synthetic, deterministic predictor (a
logistic function of age and hours per week), so the numbers are reproducible without a
trained model.

The fairlearn baseline (``MetricFrame(..., n_boot=N)``, two metrics, ``sex`` only) costs about
0.4 s per resample, so it runs once with a small ``n_boot`` and is extrapolated linearly:
``seconds(N) = seconds(no bootstrap) + N × seconds per resample``. Deselect it with
``-k "not fairlearn"``.

Run: ``pytest benchmarks/test_bench_fairness.py --benchmark-only``
"""

import time

import numpy as np
import pytest

from twinaudit.data import adult
from twinaudit.fairness.audit import fairness_audit

GROUP_SETS = [["sex"], ["race"], ["sex", "race"]]
PRIVILEGED = {"sex": "Male", "race": "White"}
N_RESAMPLES = 1000
#: The target for all metrics, three group sets, 1,000 resamples, on a 2-core machine (issue
#: 12: with the Wilson/Clopper-Pearson and BCa intervals). Recorded beside the median, not
#: asserted: timings differ about 2x between machines.
TARGET_SECONDS = 0.2
BASELINE_RESAMPLES = 20
#: The issue author's measurement: fairlearn, n_boot=200, two metrics, sex alone.
REPORTED_BASELINE = {"n_boot": 200, "seconds": 79.0}

_measured: dict[str, float] = {}


@pytest.fixture(scope="module")
def adult_test() -> dict:
    """The bundled Adult test file with a deterministic stand-in score (age and hours)."""
    frame = adult.parse(adult.read_bundled("adult.test"), is_test_file=True)
    logit = (0.09 * (frame["age"] - 38) + 0.07 * (frame["hours_per_week"] - 40) - 1.1)
    y_score = 1.0 / (1.0 + np.exp(-logit.to_numpy(float)))
    return {
        "y_true": (frame["income"] == ">50K").to_numpy().astype(int),
        "y_pred": (y_score > 0.5).astype(int),
        "y_score": y_score,
        "sensitive_features": frame[["sex", "race"]],
    }


def _audit(data: dict) -> dict:
    return fairness_audit(
        data["y_true"], data["y_pred"], data["y_score"], data["sensitive_features"],
        group_sets=GROUP_SETS, privileged=PRIVILEGED, n_resamples=N_RESAMPLES, random_state=0,
    )


def test_fairness_audit_three_group_sets_1000_resamples(benchmark, adult_test, capsys):
    result = benchmark(_audit, adult_test)
    seconds = benchmark.stats.stats.median
    _measured["twinaudit"] = seconds
    benchmark.extra_info.update(
        n_rows=len(adult_test["y_true"]), n_resamples=N_RESAMPLES,
        group_sets=["×".join(columns) for columns in GROUP_SETS], target_seconds=TARGET_SECONDS,
    )
    with capsys.disabled():
        print(f"\nfairness audit, 3 group sets, {N_RESAMPLES} resamples: median {seconds:.3f} s "
              f"(target {TARGET_SECONDS} s)")
    assert set(result["group_sets"]) == {"sex", "race", "sex×race"}
    assert result["group_sets"]["sex×race"]["disparities"]["disparate_impact"]["ci"] is not None


@pytest.mark.benchmark(group="fairlearn-baseline")
def test_fairlearn_metric_frame_baseline(benchmark, adult_test, capsys):
    from fairlearn.metrics import MetricFrame, selection_rate
    from sklearn.metrics import accuracy_score

    def metric_frame(n_boot):
        return MetricFrame(
            metrics={"selection_rate": selection_rate, "accuracy": accuracy_score},
            y_true=adult_test["y_true"], y_pred=adult_test["y_pred"],
            sensitive_features=adult_test["sensitive_features"]["sex"],
            n_boot=n_boot, ci_quantiles=[0.025, 0.975] if n_boot else None, random_state=0,
        )

    started = time.perf_counter()
    metric_frame(None)
    fixed_seconds = time.perf_counter() - started
    frame = benchmark.pedantic(metric_frame, args=(BASELINE_RESAMPLES,), rounds=1, iterations=1)
    per_resample = (benchmark.stats.stats.mean - fixed_seconds) / BASELINE_RESAMPLES

    ours = _measured.get("twinaudit")
    if ours is None:  # our benchmark was deselected: time one run
        started = time.perf_counter()
        _audit(adult_test)
        ours = time.perf_counter() - started
    fairlearn_1000 = fixed_seconds + N_RESAMPLES * per_resample
    fairlearn_200 = fixed_seconds + REPORTED_BASELINE["n_boot"] * per_resample
    benchmark.extra_info.update(
        baseline_n_boot=BASELINE_RESAMPLES,
        fairlearn_seconds_without_bootstrap=fixed_seconds,
        fairlearn_seconds_per_resample=per_resample,
        fairlearn_seconds_extrapolated_n_boot_200=fairlearn_200,
        fairlearn_seconds_extrapolated_n_boot_1000=fairlearn_1000,
        twinaudit_seconds_all_metrics_three_group_sets_1000=ours,
        speedup_vs_fairlearn_1000=fairlearn_1000 / ours,
        speedup_vs_fairlearn_200=fairlearn_200 / ours,
    )
    with capsys.disabled():
        print(
            f"\nfairlearn MetricFrame, 2 metrics, sex only: {per_resample:.3f} s per resample "
            f"(+{fixed_seconds:.2f} s) -> {fairlearn_200:.1f} s for n_boot=200, "
            f"{fairlearn_1000:.1f} s for 1000\n"
            f"twinaudit, all metrics, 3 group sets, 1000 resamples: {ours:.3f} s -> "
            f"{fairlearn_200 / ours:.0f}x faster than fairlearn's n_boot=200 on one group "
            f"set, {fairlearn_1000 / ours:.0f}x at equal resamples"
        )
    assert frame.by_group.shape == (2, 2)
    assert per_resample > 0
