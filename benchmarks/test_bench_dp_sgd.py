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

import pytest

from twinaudit.benchmarks.fixtures import bench_frameworks

ROWS, EPOCHS, ROUNDS = 8000, 10, 3

pytestmark = pytest.mark.parametrize("framework", bench_frameworks())


@pytest.mark.parametrize("implementation", ["plain", "dp_sgd"])
def test_train(benchmark, framework, implementation, adult_training, record_against_plain):
    from twinaudit.frameworks import twin_class
    from twinaudit.privacy.dp_sgd import DPSettings, fit_dp

    network, schedule, dataset = adult_training
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
    record_against_plain(benchmark, framework, implementation, twin, dataset, EPOCHS)
