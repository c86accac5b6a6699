"""The repository's benchmark suites share the packaged suite's settings and fixtures
(:mod:`twinaudit.benchmarks.fixtures`: TWINAUDIT_BENCH_AUDIT, _PROFILE, _FRAMEWORKS)."""

from __future__ import annotations

from pathlib import Path

from twinaudit.benchmarks.fixtures import *  # noqa: F403 - fixtures are found by name

REPOSITORY = Path(__file__).resolve().parents[1]
