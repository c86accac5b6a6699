"""Tests of twinaudit.gate.baseline: promoting a results file to the baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from twinaudit.gate.baseline import promote_baseline
from twinaudit.gate.errors import GateInputError
from twinaudit.gate.evaluation import evaluate, load_document
from twinaudit.gate.rules import load_rules


def test_promote_baseline_copies_the_file_under_the_audit_name(
    tmp_path: Path, make_results
) -> None:
    source = tmp_path / "run" / "results.json"
    source.parent.mkdir()
    source.write_text(json.dumps(make_results(), indent=1), encoding="utf-8")
    target = promote_baseline(source, tmp_path / "reports" / "baseline")
    assert target == tmp_path / "reports" / "baseline" / "adult.json"
    assert target.read_bytes() == source.read_bytes()
    assert evaluate(load_document(source), load_document(target), load_rules()).exit_code == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"schema_version": 9}, "schema_version"),
        ({"audit": {"name": "../escape"}}, "audit.name"),
        ({"audit": {}}, "audit.name"),
    ],
)
def test_promote_baseline_refuses_unusable_results(
    tmp_path: Path, change: dict[str, Any], expected: str, make_results
) -> None:
    source = tmp_path / "results.json"
    source.write_text(json.dumps(make_results() | change), encoding="utf-8")
    with pytest.raises(GateInputError, match=expected):
        promote_baseline(source, tmp_path / "baseline")
    assert not (tmp_path / "baseline").exists()


def test_the_committed_baseline_holds_what_ci_gates_against() -> None:
    # CI runs `twinaudit run` and `twinaudit bench`, then gates against this file: a baseline
    # promoted from a run without `twinaudit bench` would leave the speed rules skipped and the
    # tests that borrow its benchmark rows without them.
    baseline = json.loads((Path(__file__).parents[2] / "reports" / "baseline" / "adult.json")
                          .read_text(encoding="utf-8"))
    assert {"parity", "fairness", "benchmarks"} <= set(baseline)
    trained = {(row["framework"], row["implementation"]) for row in baseline["benchmarks"]["rows"]
               if row["name"] == "train"}
    assert {("torch", "twin"), ("keras", "twin")} <= trained
