"""Task progress: shown on a terminal, silent in pipes and with --quiet."""

import io
import re
import sys

from twinaudit.engine import InProcess
from twinaudit.progress import task_progress


def test_silent_when_stderr_is_not_a_terminal_or_when_quiet(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with task_progress() as progress:
        assert progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with task_progress(enabled=False) as progress:
        assert progress is None


def test_on_a_terminal_each_stage_counts_its_tasks_as_they_finish(monkeypatch):
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", terminal)
    with task_progress() as progress:
        assert progress is not None
        engine = InProcess()
        engine.progress = progress
        first = engine.submit("training", abs, -1)
        engine.submit("training", abs, -2)
        engine.submit("attribution", abs, -3)
        assert first() == 1
        progress.note("dask: 2 workers at tcp://h:8786; dashboard: http://h:8787/status")
        progress._bars.refresh()
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # no colours
    assert "training" in shown and "1/2" in shown
    assert "attribution" in shown and "0/1" in shown
    assert "dashboard: http://h:8787/status" in shown
