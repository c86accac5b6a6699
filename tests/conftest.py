"""Shared fixtures: small audit definitions and datasets, so tests train in seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SMALL_AUDIT = """
[audit]
name = "{name}"

[data]
dataset = "adult"
sensitive_features = ["sex", "race"]
max_train_rows = {train_rows}
max_test_rows = {test_rows}

[network]
hidden = [16, 8]

[training]
seeds = {seeds}
epochs = {epochs}
batch_size = 128

[attribution]
n_rows = 200
"""


def write_small_audit(folder: Path, *, name: str = "small", train_rows: int = 1500,
                      test_rows: int = 800, seeds: str = "[0, 1]", epochs: int = 2) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(SMALL_AUDIT.format(name=name, train_rows=train_rows, test_rows=test_rows,
                                       seeds=seeds, epochs=epochs))
    return path


@pytest.fixture
def small_audit(tmp_path: Path) -> Path:
    return write_small_audit(tmp_path)


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    from twinaudit.data import load_dataset
    from twinaudit.spec import load_spec

    folder = tmp_path_factory.mktemp("small")
    return load_dataset(load_spec(write_small_audit(folder, train_rows=2000)))
