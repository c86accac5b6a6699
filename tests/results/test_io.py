"""Atomic writes: a whole file or the previous one, never through a link or onto a folder."""

from __future__ import annotations

import pytest

from twinaudit.errors import InputError
from twinaudit.results.io import replace_atomically, write_atomic


def test_write_atomic_replaces_the_file_whole(tmp_path):
    target = tmp_path / "deep" / "report.html"
    write_atomic(target, "first")
    write_atomic(target, "second")
    assert target.read_text() == "second"
    assert [path.name for path in target.parent.iterdir()] == ["report.html"]


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "results.json"
    write_atomic(target, "previous")

    def half_then_fail(temporary):
        temporary.write_text("half")
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        replace_atomically(target, half_then_fail)
    assert target.read_text() == "previous"
    assert [path.name for path in tmp_path.iterdir()] == ["results.json"]


def test_a_symlinked_target_is_refused_and_its_file_untouched(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    with pytest.raises(InputError, match="report.html: is a symbolic link"):
        write_atomic(link, "<html>")
    assert victim.read_text() == "precious" and link.is_symlink()


def test_a_directory_target_is_named_as_such(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        write_atomic(tmp_path, "x")
    assert list(tmp_path.iterdir()) == []
