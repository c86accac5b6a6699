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

import numpy as np
import pytest

from twinaudit.benchmarks.fixtures import bench_frameworks

ROWS, EPOCHS, ROUNDS = 8000, 2, 3

pytestmark = pytest.mark.parametrize("framework", bench_frameworks())


@pytest.mark.parametrize("implementation", ["plain", "adversarial"])
def test_train(benchmark, framework, implementation, adult_training, record_against_plain):
    from twinaudit.fairness.adversarial import AdversarialSettings, fit_adversarial
    from twinaudit.frameworks import twin_class

    network, schedule, dataset = adult_training
    _, groups = np.unique(dataset.train.sensitive_features["sex"].to_numpy(str),
                          return_inverse=True)
    groups = groups.reshape(-1)
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
    record_against_plain(benchmark, framework, implementation, twin, dataset, EPOCHS)
