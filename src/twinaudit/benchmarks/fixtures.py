"""Benchmark settings and fixtures, chosen by environment so ``twinaudit bench`` can run one
framework per process: TWINAUDIT_BENCH_AUDIT (default audits/adult.toml in the current
folder), TWINAUDIT_BENCH_PROFILE (quick | full, default quick), TWINAUDIT_BENCH_FRAMEWORKS
(default: every registered framework, comma-separated).

A conftest makes these fixtures its own with ``from twinaudit.benchmarks.fixtures import *``."""

from __future__ import annotations

import os
import resource
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from twinaudit.vocabulary import FRAMEWORKS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = ["PROFILES", "accuracy_of", "audit_spec", "bench_frameworks", "dataset", "profile",
           "record", "training_threads"]

PROFILES = {
    # rounds per measurement; epochs of a full training run
    "quick": {"train_rounds": 5, "epoch_rounds": 5, "step_rounds": 50, "latency_rounds": 200,
              "throughput_rounds": 20, "train_epochs": 3},
    "full": {"train_rounds": 7, "epoch_rounds": 15, "step_rounds": 300, "latency_rounds": 2000,
             "throughput_rounds": 100, "train_epochs": 5},
}


def bench_frameworks() -> list[str]:
    chosen = os.environ.get("TWINAUDIT_BENCH_FRAMEWORKS", ",".join(FRAMEWORKS))
    return [framework for framework in chosen.split(",") if framework]


@pytest.fixture(scope="session")
def profile() -> dict:
    name = os.environ.get("TWINAUDIT_BENCH_PROFILE", "quick")
    if name not in PROFILES:
        raise pytest.UsageError(f"TWINAUDIT_BENCH_PROFILE={name!r}: expected quick or full")
    return {"name": name, **PROFILES[name]}


@pytest.fixture(scope="session")
def audit_spec():
    from twinaudit.spec import load_spec

    return load_spec(os.environ.get("TWINAUDIT_BENCH_AUDIT", Path("audits") / "adult.toml"))


@pytest.fixture(scope="session", autouse=True)
def training_threads(audit_spec):
    """The audit's torch thread setting, for twins and plain baselines alike."""
    if "torch" in bench_frameworks() and audit_spec.training.threads:
        import torch

        torch.set_num_threads(audit_spec.training.threads)


@pytest.fixture(scope="session")
def dataset(audit_spec):
    from twinaudit.data import load_dataset

    return load_dataset(audit_spec)


def record(benchmark, framework: str, *, accuracy: float | None, implementation: str,
           **extra) -> None:
    """What every row carries: who ran, on what, how accurate, how much memory."""
    info = {
        "framework": framework,
        "implementation": implementation,
        # Each framework's package has its name (keras[jax]'s is keras).
        "version": metadata.version(base_framework(framework)),
        "device": "cpu",
        "accuracy": accuracy,
        # ru_maxrss is in KiB on Linux: the peak resident memory of this framework's process.
        "peak_memory_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **extra,
    }
    if base_framework(framework) == "keras":
        import keras

        info["keras_backend"] = keras.backend.backend()
    benchmark.extra_info.update(info)


def base_framework(implementation: str) -> str:
    """The framework an implementation is written in: ``keras[jax]`` → ``keras``."""
    return implementation.split("[")[0]


def accuracy_of(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == y).mean())
