"""The repository's benchmark suites share the packaged suite's settings and fixtures
(:mod:`twinaudit.benchmarks.fixtures`: TWINAUDIT_BENCH_AUDIT, _PROFILE, _FRAMEWORKS)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from twinaudit.benchmarks.fixtures import *  # noqa: F403 - fixtures are found by name
from twinaudit.benchmarks.fixtures import record

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def adult_training(request):
    """The default audit's network, its schedule for the module's ``EPOCHS`` without early
    stopping, and the module's ``ROWS`` Adult training rows (2,000 test rows): what the
    suites that time a training variant against plain training share."""
    from twinaudit.data import load_dataset
    from twinaudit.frameworks.schedule import Schedule
    from twinaudit.pipeline import network_for
    from twinaudit.spec import load_spec

    spec = load_spec(REPOSITORY / "audits" / "adult.toml")
    spec = dataclasses.replace(spec, data=dataclasses.replace(
        spec.data, max_train_rows=request.module.ROWS, max_test_rows=2000))
    dataset = load_dataset(spec)
    schedule = Schedule(**{**vars(Schedule.from_section(spec.training)),
                           "epochs": request.module.EPOCHS, "early_stopping": False})
    return network_for(spec, dataset), schedule, dataset


@pytest.fixture(scope="module")
def record_against_plain():
    """Records a timed training with its accuracy and, for a variant timed after the plain
    twin of its framework in the same module, ``ratio_to_plain`` (median over median)."""
    medians: dict[str, float] = {}

    def record_training(benchmark, framework: str, implementation: str, twin, dataset,
                        epochs: int) -> None:
        median = benchmark.stats.stats.median
        extra = {}
        if implementation == "plain":
            medians[framework] = median
        elif framework in medians:
            extra["ratio_to_plain"] = median / medians[framework]
        record(benchmark, framework, accuracy=twin.score(dataset.test.X, dataset.test.y),
               implementation=implementation, rows=len(dataset.train.y), epochs=epochs,
               **extra)

    return record_training
