"""Atomic writes: a whole file or the previous one, never through a link or onto a folder;
and the one reader's typed check."""

from __future__ import annotations

import json

import pytest

from twinaudit.errors import InputError
from twinaudit.results.io import (
    check_results,
    read_results,
    replace_atomically,
    to_json,
    write_atomic,
)


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


def test_the_reader_checks_types_after_kind_and_version(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(to_json({"schema_version": 2, "kind": "twinaudit.results",
                             "twins": [{"framework": "torch", "seed": None}]}))
    with pytest.raises(InputError) as raised:
        read_results(path)
    assert str(raised.value) == f"{path}: $.twins[0].seed: expected an integer, got null"
    # Kind and version come first, in their own words.
    path.write_text(json.dumps({"schema_version": 1, "twins": 7}))
    with pytest.raises(InputError, match="schema_version is 1"):
        read_results(path)


def test_check_results_alone_checks_kind_and_version_only():
    # The gate calls it on documents built in memory, such as a single probe section.
    check_results({"schema_version": 2, "twins": {"probe": 0.5}}, source="probe")
    with pytest.raises(InputError, match="kind is 'other'"):
        check_results({"schema_version": 2, "kind": "other"}, source="probe")
