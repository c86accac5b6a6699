"""The Keras twin on each Keras backend, in a process of its own (Keras fixes its backend
per process): every primitive — the loss's gradients, the adversarial and DP-SGD ones, the
optimizer's step, the input gradients for attribution — equals the torch twin's in float64,
and a whole audit's parity proof passes; a backend whose package is missing is one line
naming the extra that installs it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twinaudit.audits.proof import EXACT_TOLERANCE
from twinaudit.frameworks.keras.backends import BACKENDS
from twinaudit.vocabulary import UNSUPPORTED_KERAS_BACKENDS

from helpers import REPO, write_small_audit

HERE = Path(__file__).parent


def _run(args: list[str], backend: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "KERAS_BACKEND": backend, **env}, cwd=REPO)


def _installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_every_primitive_equals_the_torch_twins_in_float64(backend):
    if not _installed(backend):
        pytest.skip(f"{backend} is not installed (pip install 'twinaudit[{BACKENDS[backend]}]')")
    done = _run([str(HERE / "backend_check.py")], backend)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures.pop("backend") == backend
    float32 = {name: figures.pop(name) for name in list(figures) if name.startswith("raw")}
    mutated = {name: figures.pop(name) for name in list(figures) if name.startswith("mutated")}
    for name, difference in mutated.items():
        assert difference > 1e-6, (name, difference)  # a real difference fails the proof
    # One evaluation agrees to the last bits; steps compound them (JAX's jit-compiled
    # train step lets XLA reorder sums; Adam's first steps amplify the last bit), so trained
    # weights are held to the twin proof's own tolerance.
    trained = {name: figures.pop(name) for name in list(figures)
               if name.startswith("train_steps") or name.endswith("proof")}
    for name, difference in figures.items():
        assert difference < 1e-12, (name, difference)
    for name, difference in trained.items():
        assert difference < EXACT_TOLERANCE, (name, difference)
    for name, difference in float32.items():  # attribution runs in float32
        assert difference < 1e-5, (name, difference)


@pytest.mark.slow
def test_an_audit_with_keras_on_jax_proves_the_twins_identical(tmp_path):
    if not _installed("jax"):
        pytest.skip("jax is not installed (pip install 'twinaudit[jax]')")
    path = write_small_audit(tmp_path, train_rows=600, test_rows=300)
    path.write_text(path.read_text().replace("[attribution]", "[audits]\nmitigation = false\n"
                                                              "\n[attribution]"))
    done = _run(["-m", "twinaudit.cli", "run", str(path), "--workers", "0"], "jax")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "parity: PASS: identical" in done.stdout + done.stderr
    results = json.loads((tmp_path / "reports" / "small" / "results.json").read_text())
    assert results["environment"]["keras_backend"] == "jax"
    assert results["parity"]["verdict"]["passed"]


def test_a_missing_backend_package_is_one_line_naming_the_extra(tmp_path):
    # A jax that cannot be imported, ahead of the real one on the path.
    (tmp_path / "jax").mkdir()
    (tmp_path / "jax" / "__init__.py").write_text("raise ImportError('no jax here')\n")
    done = _run(["-c", "from twinaudit.frameworks import twin_class; twin_class('keras')"],
                "jax", PYTHONPATH=str(tmp_path))
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "KERAS_BACKEND=jax" in last and "pip install 'twinaudit[jax]'" in last


@pytest.mark.parametrize("backend, why", [
    *UNSUPPORTED_KERAS_BACKENDS.items(), ("mxnet", "not a Keras backend")])
def test_a_run_on_a_keras_backend_the_twin_does_not_run_on_stops_before_any_work(
        tmp_path, backend, why):
    path = write_small_audit(tmp_path, train_rows=600, test_rows=300)
    done = _run(["-m", "twinaudit.cli", "run", str(path)], backend)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines() == [
        f"twinaudit: KERAS_BACKEND={backend}: {path} lists keras, and the Keras twin runs on "
        f"{', '.join(BACKENDS)} ({why})"]
    assert not (tmp_path / "reports").exists()
