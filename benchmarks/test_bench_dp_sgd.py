"""DP-SGD against plain training of the same twin, per framework (target: ≤ 3× the plain
twin's training time).

The Adult MLP twin (the default audit's network) trains on 8,000 Adult rows for 10 epochs
(320 steps: the steady state, beyond the one-off tracing a Keras twin pays) without early
stopping, plainly and with DP-SGD (Poisson sampling, per-row clipping, numpy
Gaussian noise, the twin's own Adam), one after the other in the same process, so
``ratio_to_plain`` (DP median / plain median) is measured side by side. A DP step costs the
clipped per-row sum (one forward and one backward pass for a dense network), a normal draw
per parameter and one optimizer step with the result.

``TWINAUDIT_BENCH_FRAMEWORKS=torch pytest benchmarks/test_bench_dp_sgd.py --benchmark-only``
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from twinaudit.benchmarks.fixtures import bench_frameworks, record
from twinaudit.frameworks.schedule import Schedule

REPOSITORY = Path(__file__).resolve().parents[1]
ROWS, EPOCHS, ROUNDS = 8000, 10, 3
PLAIN_MEDIANS: dict[str, float] = {}

pytestmark = pytest.mark.parametrize("framework", bench_frameworks())


@pytest.fixture(scope="module")
def adult():
    from twinaudit.data import load_dataset
    from twinaudit.pipeline import network_for
    from twinaudit.spec import load_spec

    spec = load_spec(REPOSITORY / "audits" / "adult.toml")
    spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, max_train_rows=ROWS,
                                                              max_test_rows=2000))
    dataset = load_dataset(spec)
    schedule = Schedule(**{**vars(Schedule.from_section(spec.training)), "epochs": EPOCHS,
                           "early_stopping": False})
    return network_for(spec, dataset), schedule, dataset


@pytest.mark.parametrize("implementation", ["plain", "dp_sgd"])
def test_train(benchmark, framework, implementation, adult):
    from twinaudit.frameworks import twin_class
    from twinaudit.privacy.dp_sgd import DPSettings, fit_dp

    network, schedule, dataset = adult
    cls = twin_class(framework)

    def fit():
        twin = cls(network, schedule, random_state=0)
        with cls.thread_limit(1):
            if implementation == "plain":
                return twin.fit(dataset.train.X, dataset.train.y)
            return fit_dp(twin, dataset.train.X, dataset.train.y,
                          DPSettings(clipping_norm=1.0, noise_multiplier=1.0))

    benchmark.group = f"DP-SGD vs plain training ({framework})"
    twin = benchmark.pedantic(fit, rounds=ROUNDS, warmup_rounds=1)
    median = benchmark.stats.stats.median
    extra = {}
    if implementation == "plain":
        PLAIN_MEDIANS[framework] = median
    elif framework in PLAIN_MEDIANS:
        extra["ratio_to_plain"] = median / PLAIN_MEDIANS[framework]
    record(benchmark, framework, accuracy=twin.score(dataset.test.X, dataset.test.y),
           implementation=implementation, rows=ROWS, epochs=EPOCHS, **extra)
