"""Integrated Gradients, 50 Gauss–Legendre steps, on all 16,281 Adult test rows.

Side by side in one run: ours on the torch twin, captum's ``IntegratedGradients`` on the same
twin and rows, and ours on the Keras twin. The network is the default MLP 64-32 with its
initial weights: the cost of attribution does not depend on training.

captum takes about 1.1 s per 2,000 rows here, so it is timed once on a 2,000-row slice (its
own default of one batch per call) and scaled linearly to all rows, which ``extra_info`` says;
its attributions on that slice are checked against ours.

Targets: ours ≥ 3× faster than captum, the Keras twin within 1.5× of the torch twin.

On a shared 2-core machine torch's OpenMP threads stall when another process holds a core
(torch and captum both slow down several-fold; TensorFlow's thread pool much less), so
``extra_info`` records the load average and torch's thread count beside the times.

Run: ``pytest benchmarks/test_bench_attribution.py --benchmark-only``
"""

import os
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

N_STEPS = 50
CAPTUM_ROWS = 2000
SPEEDUP_TARGET = 3.0
KERAS_RATIO_TARGET = 1.5
ROUNDS = 3

_measured: dict[str, float] = {}


@pytest.fixture(scope="module")
def adult():
    from twinaudit.data import load_dataset
    from twinaudit.spec import spec_from_dict

    spec = spec_from_dict({"audit": {"name": "bench"},
                           "data": {"dataset": "adult", "max_train_rows": 5000}},
                          source=Path("bench.toml"))
    return load_dataset(spec)


@pytest.fixture(scope="module")
def twins(adult):
    from twinaudit.frameworks import twin_class
    from twinaudit.nets import MLPNetwork
    from twinaudit.vocabulary import FRAMEWORKS

    network = MLPNetwork(n_inputs=adult.test.X.shape[1], hidden=(64, 32))
    return {framework: twin_class(framework)(network, random_state=0).initialize()
            for framework in FRAMEWORKS}


def _ours(twin, adult):
    from twinaudit.attribution import gradient_function, integrated_gradients

    return integrated_gradients(gradient_function(twin), adult.test.X, "train_mean",
                                X_train=adult.train.X, n_steps=N_STEPS)


def _captum(twin, X, baseline):
    import torch
    from captum.attr import IntegratedGradients

    from twinaudit.attribution.methods import log_odds_module

    return IntegratedGradients(log_odds_module(twin)).attribute(
        torch.from_numpy(X), baselines=torch.from_numpy(baseline[None]), n_steps=N_STEPS,
    ).detach().numpy()


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


@pytest.mark.benchmark(group="integrated-gradients-16k")
def test_ours_torch_twin(benchmark, adult, twins):
    result = benchmark.pedantic(_ours, args=(twins["torch"], adult), rounds=ROUNDS,
                                iterations=1, warmup_rounds=1)
    _measured["torch"] = benchmark.stats.stats.mean
    import torch

    benchmark.extra_info.update(n_rows=len(adult.test), n_steps=N_STEPS,
                                n_features=adult.test.X.shape[1], network="MLP 64-32",
                                relative_delta=result.relative_delta,
                                torch_threads=torch.get_num_threads(),
                                load_average=os.getloadavg()[0])
    assert result.attributions.shape == adult.test.X.shape
    assert not result.completeness_summary()["flagged"]


@pytest.mark.benchmark(group="integrated-gradients-16k")
def test_captum_torch_twin(benchmark, adult, twins, capsys):
    from twinaudit.attribution.integrated_gradients import resolve_baselines

    X = adult.test.X[:CAPTUM_ROWS]
    baseline = resolve_baselines("train_mean", X.shape[1], X_train=adult.train.X)
    captum = benchmark.pedantic(_captum, args=(twins["torch"], X, baseline), rounds=1,
                                iterations=1)
    scale = len(adult.test) / CAPTUM_ROWS
    captum_all_rows = benchmark.stats.stats.mean * scale
    ours = _measured.get("torch") or _timed(_ours, twins["torch"], adult)
    ours_slice = _ours(twins["torch"], adult).attributions[:CAPTUM_ROWS]
    speedup = captum_all_rows / ours
    benchmark.extra_info.update(
        captum_rows_timed=CAPTUM_ROWS, captum_seconds_scaled_to_all_rows=captum_all_rows,
        scaled_linearly_by=scale, ours_seconds_all_rows=ours, speedup_vs_captum=speedup,
        max_abs_difference_on_slice=float(np.abs(ours_slice - captum).max()),
    )
    with capsys.disabled():
        print(f"\nIntegrated Gradients, {N_STEPS} steps, {len(adult.test)} rows, torch twin: "
              f"ours {ours:.2f} s, captum {captum_all_rows:.2f} s (timed on {CAPTUM_ROWS} "
              f"rows, scaled x{scale:.2f}) -> ours is {speedup:.1f}x faster")
    np.testing.assert_allclose(ours_slice, captum, rtol=0, atol=1e-5)
    assert speedup >= SPEEDUP_TARGET, f"{speedup:.1f}x; the target is {SPEEDUP_TARGET}x"


@pytest.mark.benchmark(group="integrated-gradients-16k")
def test_ours_keras_twin(benchmark, adult, twins, capsys):
    # The warm-up round traces the tf.function once, as any real run would before the rows.
    result = benchmark.pedantic(_ours, args=(twins["keras"], adult), rounds=ROUNDS,
                                iterations=1, warmup_rounds=1)
    keras_seconds = benchmark.stats.stats.mean
    torch_seconds = _measured.get("torch") or _timed(_ours, twins["torch"], adult)
    ratio = keras_seconds / torch_seconds
    benchmark.extra_info.update(torch_seconds=torch_seconds, keras_seconds=keras_seconds,
                                keras_over_torch=ratio)
    with capsys.disabled():
        print(f"\nIntegrated Gradients on the Keras twin: {keras_seconds:.2f} s, "
              f"{ratio:.2f}x the torch twin's {torch_seconds:.2f} s")
    torch_attributions = _ours(twins["torch"], adult).attributions
    np.testing.assert_allclose(result.attributions[:CAPTUM_ROWS],
                               torch_attributions[:CAPTUM_ROWS], rtol=0, atol=1e-5)
    assert ratio <= KERAS_RATIO_TARGET, f"{ratio:.2f}x; the target is {KERAS_RATIO_TARGET}x"
