"""Adversarial debiasing against plain training of the same twin, per framework.

The Adult MLP twin (the default audit's network) trains on 8,000 Adult rows for 2 epochs
without early stopping, plainly and against its adversary of sex, one after the other in the
same process, so ``ratio_to_plain`` (adversarial median / plain median; target ≤ 2.5) is
measured side by side. An adversarial step costs the twin's loss gradients, a
vector–Jacobian product through the network, the numpy adversary and the projection, and one
optimizer step with the result.

``TWINAUDIT_BENCH_FRAMEWORKS=torch pytest benchmarks/test_bench_adversarial.py --benchmark-only``
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from twinaudit.benchmarks.fixtures import bench_frameworks, record
from twinaudit.frameworks.schedule import Schedule

REPOSITORY = Path(__file__).resolve().parents[1]
ROWS, EPOCHS, ROUNDS = 8000, 2, 3
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
    _, groups = np.unique(dataset.train.sensitive_features["sex"].to_numpy(str),
                          return_inverse=True)
    return network_for(spec, dataset), schedule, dataset, groups.reshape(-1)


@pytest.mark.parametrize("implementation", ["plain", "adversarial"])
def test_train(benchmark, framework, implementation, adult):
    from twinaudit.fairness.adversarial import AdversarialSettings, fit_adversarial
    from twinaudit.frameworks import twin_class

    network, schedule, dataset, groups = adult
    cls = twin_class(framework)

    def fit():
        twin = cls(network, schedule, random_state=0)
        with cls.thread_limit(1):
            if implementation == "plain":
                return twin.fit(dataset.train.X, dataset.train.y)
            return fit_adversarial(twin, dataset.train.X, dataset.train.y, groups,
                                   AdversarialSettings())

    benchmark.group = f"adversarial vs plain training ({framework})"
    twin = benchmark.pedantic(fit, rounds=ROUNDS, warmup_rounds=1)
    median = benchmark.stats.stats.median
    extra = {}
    if implementation == "plain":
        PLAIN_MEDIANS[framework] = median
    elif framework in PLAIN_MEDIANS:
        extra["ratio_to_plain"] = median / PLAIN_MEDIANS[framework]
    record(benchmark, framework, accuracy=twin.score(dataset.test.X, dataset.test.y),
           implementation=implementation, rows=ROWS, epochs=EPOCHS, **extra)
