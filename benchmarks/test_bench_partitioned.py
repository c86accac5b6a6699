"""Fairness over a prediction table larger than memory, and fairlearn beside it.

- The audit of a partitioned table of ``TWINAUDIT_BENCH_ROWS`` rows (default 10^8, written by
  ``benchmarks/make_predictions.py`` into a temporary folder: 100 files, 3 group sets with an
  intersection, 1,000 resamples) on two local workers and in-process, each with its wall
  time and the peak memory of its largest process and of all its processes together (sampled
  every 0.1 s with psutil).
- The yardstick: fairlearn's ``MetricFrame`` with ``n_boot=100`` (its bootstrap resamples
  rows) on the first 10^6 rows, for the same three group sets and the selection rate.

Run: ``pytest benchmarks/test_bench_partitioned.py --benchmark-only -o addopts= -s``
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("TWINAUDIT_BENCH_ROWS", str(10**8)))
FILES = 100

AUDIT = """
[audit]
name = "big"
[data]
dataset = "predictions"
path = "{path}"
label = "label"
positive = "1"
score = "score"
sensitive_features = ["sex", "race"]
[fairness]
group_sets = [["sex"], ["race"], ["sex", "race"]]
privileged = {{ sex = "Male", race = "White" }}
n_resamples = 1000
"""


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("partitioned")
    subprocess.run([sys.executable, str(REPOSITORY / "benchmarks" / "make_predictions.py"),
                    str(folder / "parts"), "--files", str(FILES), "--rows-per-file",
                    str(ROWS // FILES)], check=True)
    (folder / "big.toml").write_text(AUDIT.format(path=folder / "parts"))
    return folder


def measured_run(folder: Path, workers: int) -> dict:
    """Wall time and peak memory (largest process, all processes) of one run."""
    import psutil

    environment = {key: value for key, value in os.environ.items()
                   if key != "TWINAUDIT_WORKERS"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "twinaudit.cli", "run", str(folder / "big.toml"), "--quiet",
         "--workers", str(workers), "--output-dir", str(folder / f"out{workers}")],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root, largest, together = psutil.Process(process.pid), 0, 0
    while process.poll() is None:
        sizes = []
        for member in [root, *root.children(recursive=True)]:
            try:
                sizes.append(member.memory_info().rss)
            except psutil.Error:
                pass
        largest, together = max(largest, *sizes, 0), max(together, sum(sizes))
        time.sleep(0.1)
    assert process.wait() == 0, process.stderr.read() if process.stderr else ""
    return {"seconds": time.perf_counter() - started, "largest_process_gib": largest / 2**30,
            "all_processes_gib": together / 2**30}


@pytest.mark.parametrize("workers", [2, 0])
def test_fairness_over_a_partitioned_table(benchmark, table, workers):
    figures = benchmark.pedantic(measured_run, args=(table, workers), rounds=1, iterations=1)
    benchmark.extra_info.update({"rows": ROWS, "workers": workers, **figures,
                                 "target_seconds": 60, "target_gib_per_process": 2})
    print(f"\n{ROWS:,} rows, {workers} workers: {figures['seconds']:.1f} s, largest process "
          f"{figures['largest_process_gib']:.2f} GiB, all {figures['all_processes_gib']:.2f} GiB")


def test_fairlearn_metricframe_bootstrap_on_a_million_rows(benchmark, table):
    from fairlearn.metrics import MetricFrame, selection_rate

    files = sorted((table / "parts").glob("*.parquet"))
    rows = pd.concat([pd.read_parquet(file) for file in
                      files[:max(1, 10**6 // (ROWS // FILES))]]).iloc[:10**6]
    y_pred = (rows["score"] >= 0.5).astype(int)

    def bootstrap() -> None:
        for features in (["sex"], ["race"], ["sex", "race"]):
            MetricFrame(metrics=selection_rate, y_true=rows["label"], y_pred=y_pred,
                        sensitive_features=rows[features].astype(str), n_boot=100,
                        ci_quantiles=[0.025, 0.975], random_state=0)

    benchmark.pedantic(bootstrap, rounds=1, iterations=1)
    benchmark.extra_info.update({"rows": len(rows), "n_boot": 100})
    print(f"\nfairlearn MetricFrame, n_boot=100, {len(rows):,} rows, 3 group sets: "
          f"{benchmark.stats.stats.median:.1f} s")
