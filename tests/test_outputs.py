"""A run's outputs as one set: staged, swapped in whole, locked; a killed run changes nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twinaudit.errors import InputError
from twinaudit.outputs import OutputSet

from helpers import write_small_audit

ANY = ("*",)


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_commit_swaps_the_staged_folder_in_whole(tmp_path):
    target = tmp_path / "reports" / "a"
    target.mkdir(parents=True)
    (target / "results.json").write_text("old")
    (target / "report.html").write_text("old")
    with OutputSet({target: ANY}) as outputs:
        (outputs.staging(target) / "results.json").write_text("new")
        assert (target / "results.json").read_text() == "old"  # not before the commit
        outputs.commit()
    assert listing(target) == ["results.json"]  # the old report went with the old set
    assert (target / "results.json").read_text() == "new"
    assert listing(tmp_path / "reports") == ["a"]  # no staging, previous or lock left


def test_a_failing_run_leaves_the_previous_set_whole(tmp_path):
    target = tmp_path / "a"
    target.mkdir()
    (target / "results.json").write_text("old")
    with pytest.raises(RuntimeError), OutputSet({target: ANY}) as outputs:
        (outputs.staging(target) / "results.json").write_text("half")
        raise RuntimeError("training failed")
    assert listing(tmp_path) == ["a"] and (target / "results.json").read_text() == "old"


@pytest.fixture
def other_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_lives(tmp_path,
                                                                           other_process):
    target = tmp_path / "a"
    (tmp_path / ".a.lock").write_text(f"{other_process}\n")
    with pytest.raises(InputError, match=rf"another twinaudit run \(pid {other_process}\)"):
        OutputSet({target: ANY}).__enter__()
    assert listing(tmp_path) == [".a.lock"]  # nothing staged, the holder's lock kept


def test_what_a_killed_run_left_is_removed_by_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    target = tmp_path / "a"
    (tmp_path / ".a.lock").write_text(f"{pid}\n")
    (tmp_path / f".a.staging-{pid}").mkdir()
    (tmp_path / f".a.staging-{pid}" / "results.json").write_text("half")
    with OutputSet({target: ANY}) as outputs:
        outputs.commit()
    assert listing(tmp_path) == ["a"]


@pytest.mark.parametrize("prepare, message", [
    (lambda target: target.symlink_to(target.parent / "elsewhere", target_is_directory=True),
     "is a symbolic link"),
    (lambda target: target.write_text("x"), "is a file"),
    (lambda target: (target.mkdir(), (target / "thesis.docx").write_text("x")),
     "holds thesis.docx, which no twinaudit run wrote"),
])
def test_targets_it_must_not_replace_are_refused(tmp_path, prepare, message):
    (tmp_path / "elsewhere").mkdir()
    target = tmp_path / "a"
    prepare(target)
    with pytest.raises(InputError, match=message):
        OutputSet({target: ("results.json",)}).__enter__()
    assert not list(tmp_path.glob(".a.*"))


# -- whole runs, in subprocesses ---------------------------------------------------------------

def run(audit: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "twinaudit.cli", "run", audit.name, "--quiet",
                             *extra], cwd=audit.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def outputs_of(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_killing_a_run_at_random_points_never_breaks_the_previous_set(tmp_path):
    audit = write_small_audit(tmp_path, name="k", train_rows=300, test_rows=200, seeds="[0]",
                              epochs=1)
    first = run(audit)
    assert first.wait(timeout=600) == 0, first.stderr.read() if first.stderr else ""
    before = {name: outputs_of(tmp_path / name / "k") for name in ("reports", "models")}
    rng = random.Random(0)
    for _ in range(3):
        rerun = run(audit)
        time.sleep(rng.uniform(1.0, 12.0))
        rerun.send_signal(signal.SIGKILL)
        printed, _ = rerun.communicate(timeout=60)
        now = {name: outputs_of(tmp_path / name / "k") for name in ("reports", "models")}
        # The report's path is printed once the new set is in: a run killed after that (in
        # the interpreter's exit, which takes seconds with TensorFlow loaded) finished too.
        if rerun.returncode == 0 or "report.html" in printed:  # then a whole new set
            before = now
        # Either way a reader sees one whole set: this one is the previous set, unchanged
        # apart from what a finished run replaced whole.
        assert now.keys() == before.keys() and now == before
    last = run(audit)
    assert last.wait(timeout=600) == 0
    for name in ("reports", "models"):
        assert listing(tmp_path / name) == ["k"], "leftovers of killed runs remain"


@pytest.mark.slow
def test_two_concurrent_runs_one_waits_its_turn_with_one_line(tmp_path):
    audit = write_small_audit(tmp_path, name="c", train_rows=300, test_rows=200, seeds="[0]",
                              epochs=1)
    first = run(audit)
    lock = tmp_path / "reports" / ".c.lock"
    deadline = time.monotonic() + 300
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lock.exists(), "the first run never took its lock"
    second = run(audit)
    assert second.wait(timeout=300) == 2
    error = second.stderr.read() if second.stderr else ""
    assert error.count("\n") == 1 and f"another twinaudit run (pid {first.pid})" in error
    assert first.wait(timeout=600) == 0
    assert (tmp_path / "reports" / "c" / "results.json").is_file()
    assert not lock.exists() and os.listdir(tmp_path / "reports") == ["c"]
