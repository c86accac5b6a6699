"""Shared fixtures: small audit definitions, data sets and twins, so tests run in seconds.

Helpers that are plain functions or constants live in ``helpers.py``; nothing imports this
file (pytest finds its fixtures by name).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from helpers import attribution_case, network_case, twins_of, write_small_audit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runs inside the test process execute their tasks in it (the sequential reference): a local
# Dask cluster per test would cost seconds each, and the engine's own tests start theirs in a
# subprocess of their own (tests/engine), so no cluster outlives a test.
os.environ["TWINAUDIT_WORKERS"] = "0"
# A hosted twin's host process (twinaudit.frameworks.host) unpickles what the tests hand it:
# the test networks of helpers.py, the faulty twins of mutant_twins.py.
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))

#: The shipped network audits the per-network tests run over (``network_case``).
NETWORKS = ["simplenet", "digits", "sentiment", "autoencoder"]


@pytest.fixture
def small_audit(tmp_path: Path) -> Path:
    return write_small_audit(tmp_path)


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    from twinaudit.data import load_dataset
    from twinaudit.spec import load_spec

    folder = tmp_path_factory.mktemp("small")
    return load_dataset(load_spec(write_small_audit(folder, train_rows=2000)))


@pytest.fixture(scope="module")
def batch():
    """Twelve rows of five normal features and random binary labels."""
    rng = np.random.default_rng(7)
    return rng.normal(size=(12, 5)).astype(np.float32), rng.integers(0, 2, 12)


@pytest.fixture(scope="module", params=NETWORKS)
def case(request):
    """``(name, network, dataset)`` of each shipped network audit, on 600/300 rows."""
    return network_case(request.param)


@pytest.fixture(scope="module")
def digits():
    """The digits audit on 300/60 rows with initialised twins of seeds 0 and 1."""
    spec, dataset, network = attribution_case("digits")
    return spec, dataset, network, twins_of(network, seeds=(0, 1))


@pytest.fixture(scope="module")
def sentiment():
    """The sentiment audit on 300/60 rows with initialised twins of seeds 0 and 1, their
    embeddings scaled up (untrained embeddings are too small to attribute anything)."""
    spec, dataset, network = attribution_case("sentiment")
    return spec, dataset, network, twins_of(network, seeds=(0, 1),
                                            scale={"embedding_0.embeddings": 20.0})
