"""The engine seam: how a run's execution is chosen, the in-process engine, twins as tasks'
arguments and results, and bad execution settings as one line before any work."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from twinaudit.engine import (
    MIN_CORES_FOR_WORKERS,
    WORKERS_VARIABLE,
    Execution,
    InProcess,
    default_workers,
    execution,
)
from twinaudit.errors import InputError
from twinaudit.spec import SpecError, spec_from_dict
from twinaudit.spec.load import is_scheduler_address
from twinaudit.vocabulary import FRAMEWORKS

from helpers import write_small_audit


def test_the_command_line_wins_over_the_environment_over_the_audit(monkeypatch):
    monkeypatch.delenv(WORKERS_VARIABLE, raising=False)
    assert execution(None, None, spec_workers=3, spec_scheduler="") == Execution(3)
    assert execution(None, None, spec_workers=-1, spec_scheduler="") == Execution(
        default_workers())
    assert execution(None, None, spec_workers=3, spec_scheduler="tcp://a:1") == Execution(
        0, "tcp://a:1")
    monkeypatch.setenv(WORKERS_VARIABLE, "2")
    # A local worker count from the environment asks for a local run.
    assert execution(None, None, spec_workers=3, spec_scheduler="tcp://a:1") == Execution(2)
    assert execution(0, None, spec_workers=3, spec_scheduler="") == Execution(0)
    assert execution(1, "tcp://b:2", spec_workers=3, spec_scheduler="") == Execution(
        0, "tcp://b:2")
    monkeypatch.setenv(WORKERS_VARIABLE, "two")
    with pytest.raises(InputError, match=r"\$TWINAUDIT_WORKERS: expected a whole number"):
        execution(None, None, spec_workers=3, spec_scheduler="")
    assert [Execution(0).kind, Execution(2).kind, Execution(0, "tcp://a:1").kind] == [
        "in_process", "local_cluster", "cluster"]


def test_the_default_is_one_worker_per_core_from_three_cores(monkeypatch):
    for cores, expected in ((1, 0), (2, 0), (MIN_CORES_FOR_WORKERS, MIN_CORES_FOR_WORKERS),
                            (16, 16)):
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        assert default_workers() == expected


def test_in_process_tasks_run_once_when_collected_and_raise_there():
    calls = []
    engine = InProcess()

    def task(value):
        calls.append(value)
        if value < 0:
            raise ValueError("negative")
        return value * 2

    first, failing = engine.submit("stage", task, 3), engine.submit("stage", task, -1)
    assert calls == []  # nothing runs ahead of its collection
    assert first() == 6 and first() == 6 and calls == [3]
    with pytest.raises(ValueError, match="negative"):
        failing()
    assert engine.share(calls) is calls and engine.describe() == {"kind": "in_process",
                                                                  "workers": 0}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_twin_pickles_as_plain_data_and_predicts_the_same(framework):
    from twinaudit.frameworks import twin_class
    from twinaudit.frameworks.schedule import Schedule
    from twinaudit.nets import MLPNetwork

    random = np.random.default_rng(0)
    X, y = random.normal(size=(64, 5)).astype(np.float32), random.integers(0, 2, 64)
    twin = twin_class(framework)(MLPNetwork(n_inputs=5, hidden=(4,)), Schedule(epochs=2),
                                 random_state=3).fit(X, y, validation=(X, y))
    payload = pickle.dumps(twin)
    # No framework object travels: the pickle holds numpy arrays and the twin's parameters.
    assert b"torch.nn" not in payload and b"keras.src" not in payload
    copy = pickle.loads(payload)
    assert np.array_equal(copy.decision_function(X), twin.decision_function(X))
    assert copy.history_["epochs"] == twin.history_["epochs"]
    assert copy.random_state == 3 and copy.get_params().keys() == twin.get_params().keys()
    unfitted = pickle.loads(pickle.dumps(twin_class(framework)(MLPNetwork(n_inputs=5))))
    assert not hasattr(unfitted, "n_features_in_")


def test_execution_settings_are_checked_with_the_spec(tmp_path):
    base = {"audit": {"name": "e"}, "data": {"dataset": "adult"}}
    for execution_table, message in (
            ({"workers": -2}, r"\[execution\]\.workers: expected -1 \(one per core\)"),
            ({"scheduler": "localhost:8786"}, r"\[execution\]\.scheduler: expected a scheduler"),
            ({"threads": 2}, "threads")):
        with pytest.raises(SpecError, match=message):
            spec_from_dict({**base, "execution": execution_table}, source=tmp_path / "e.toml")
    spec = spec_from_dict({**base, "execution": {"workers": 0, "scheduler": "tcp://h:8786"}},
                          source=tmp_path / "e.toml")
    assert (spec.execution.workers, spec.execution.scheduler) == (0, "tcp://h:8786")
    assert is_scheduler_address("tls://10.0.0.1:8786") and not is_scheduler_address("tcp://")


@pytest.mark.parametrize(("options", "expected"), [
    (["--workers", "-3"], "twinaudit: --workers: expected 0 or more, got -3"),
    (["--scheduler", "nowhere"], "twinaudit: --scheduler: expected a scheduler address"),
])
def test_bad_execution_options_are_one_line_and_exit_2(tmp_path, options, expected):
    audit = write_small_audit(tmp_path)
    completed = subprocess.run([sys.executable, "-m", "twinaudit.cli", "run", str(audit),
                                "--quiet", *options], capture_output=True, text=True,
                               timeout=120, cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith(expected) and len(completed.stderr.splitlines()) == 1
    assert not (tmp_path / "reports").exists() and not (tmp_path / "models").exists()
