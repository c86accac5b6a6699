"""What the engine buys: the default audit against an older checkout, and many seeds on two
local workers against one, each pair measured side by side in one session.

Each run is ``twinaudit run`` in a subprocess, cold (``--no-cache``; a baseline from before the
cache always trains), so interpreter start,
imports and a local cluster's start-up are part of the figure, as they are for a user.

- ``TWINAUDIT_BASELINE_SRC``: the ``src`` folder of another checkout (``git worktree add
  /tmp/base <rev>``); the default audit runs with it on ``PYTHONPATH``, then with this tree.
- ``TWINAUDIT_BENCH_SEEDS`` (default 20): the seeds of the scaling audit (Adult, both
  frameworks, no mitigation), run with ``--workers 1`` and ``--workers 2``.

Run: ``pytest benchmarks/test_bench_engine.py --benchmark-only -o addopts= -s``
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def timed_run(audit: Path, folder: Path, *options: str, pythonpath: str | None = None) -> float:
    environment = {key: value for key, value in os.environ.items()
                   if key != "TWINAUDIT_WORKERS"}
    if pythonpath:
        environment["PYTHONPATH"] = pythonpath
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twinaudit.cli", "run", str(audit), "--quiet",
                    "--output-dir", str(folder / "reports"), "--models-dir",
                    str(folder / "models"), *options], check=True, env=environment,
                   capture_output=True, timeout=3600)
    return time.perf_counter() - started


@pytest.mark.skipif(not os.environ.get("TWINAUDIT_BASELINE_SRC"),
                    reason="TWINAUDIT_BASELINE_SRC names no baseline checkout")
def test_the_default_audit_against_a_baseline_checkout(benchmark, tmp_path):
    audit = REPOSITORY / "audits" / "adult.toml"
    # A checkout from before the twin cache has no --no-cache: it always trains.
    baseline = timed_run(audit, tmp_path / "baseline",
                         pythonpath=os.environ["TWINAUDIT_BASELINE_SRC"])
    now = benchmark.pedantic(timed_run, args=(audit, tmp_path / "now", "--no-cache"),
                             rounds=1, iterations=1)
    benchmark.extra_info.update({"baseline_seconds": baseline, "seconds": now,
                                 "speed_up": baseline / now})
    print(f"\ndefault audit: baseline {baseline:.1f} s, now {now:.1f} s "
          f"({baseline / now:.2f}x)")


def test_many_seeds_on_two_workers_against_one(benchmark, tmp_path):
    seeds = int(os.environ.get("TWINAUDIT_BENCH_SEEDS", "20"))
    text = (REPOSITORY / "audits" / "adult.toml").read_text()
    text = re.sub(r"seeds = \[.*\]", f"seeds = {list(range(seeds))}", text)
    text = text.replace("mitigation = true", "mitigation = false")
    audit = tmp_path / "seeds.toml"
    audit.write_text(text)
    one = timed_run(audit, tmp_path / "one", "--no-cache", "--workers", "1")
    two = benchmark.pedantic(timed_run, args=(audit, tmp_path / "two", "--no-cache",
                                              "--workers", "2"), rounds=1, iterations=1)
    benchmark.extra_info.update({"seeds": seeds, "one_worker_seconds": one,
                                 "two_workers_seconds": two, "speed_up": one / two,
                                 "target_speed_up": 1.7})
    print(f"\n{seeds} seeds: 1 worker {one:.1f} s, 2 workers {two:.1f} s ({one / two:.2f}x)")
