"""Training progress: shown on a terminal, silent in pipes and with --quiet."""

import io
import sys

from twinaudit.frameworks.schedule import EpochRecord
from twinaudit.progress import training_progress
from twinaudit.spec import spec_from_dict


def spec(tmp_path):
    return spec_from_dict({"audit": {"name": "p"}, "data": {"dataset": "adult"}},
                          source=tmp_path / "p.toml")


def test_silent_when_stderr_is_not_a_terminal_or_when_quiet(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with training_progress(spec(tmp_path)) as progress:
        assert progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with training_progress(spec(tmp_path), enabled=False) as progress:
        assert progress is None


def test_on_a_terminal_each_epoch_updates_the_display(tmp_path, monkeypatch):
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", terminal)
    with training_progress(spec(tmp_path)) as progress:
        assert callable(progress)
        progress("keras", 2, EpochRecord(epoch=4, validation_loss=0.3125,
                                         validation_accuracy=0.85, seconds=0.1))
    assert "keras seed 2 epoch 5/10" in terminal.getvalue()
