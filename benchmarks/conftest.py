"""Benchmark settings, chosen by environment so ``twinaudit bench`` can run one framework per
process: TWINAUDIT_BENCH_AUDIT (default audits/adult.toml), TWINAUDIT_BENCH_PROFILE
(quick | full, default quick), TWINAUDIT_BENCH_FRAMEWORKS (default "torch,keras")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPOSITORY = Path(__file__).resolve().parents[1]

PROFILES = {
    # rounds per measurement; epochs of a full training run
    "quick": {"train_rounds": 5, "epoch_rounds": 5, "step_rounds": 50, "latency_rounds": 200,
              "throughput_rounds": 20, "train_epochs": 3},
    "full": {"train_rounds": 7, "epoch_rounds": 15, "step_rounds": 300, "latency_rounds": 2000,
             "throughput_rounds": 100, "train_epochs": 5},
}


def bench_frameworks() -> list[str]:
    return [f for f in os.environ.get("TWINAUDIT_BENCH_FRAMEWORKS", "torch,keras").split(",") if f]


@pytest.fixture(scope="session")
def profile() -> dict:
    name = os.environ.get("TWINAUDIT_BENCH_PROFILE", "quick")
    if name not in PROFILES:
        raise pytest.UsageError(f"TWINAUDIT_BENCH_PROFILE={name!r}: expected quick or full")
    return {"name": name, **PROFILES[name]}


@pytest.fixture(scope="session")
def audit_spec():
    from twinaudit.spec import load_spec

    return load_spec(os.environ.get("TWINAUDIT_BENCH_AUDIT", REPOSITORY / "audits" / "adult.toml"))


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
