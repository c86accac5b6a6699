"""Tests of twinaudit.gate.rules: reading and validating rule files and tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from twinaudit.errors import TwinauditError
from twinaudit.gate.checks import EXIT_PASS, EXIT_REGRESSION
from twinaudit.gate.errors import GateInputError, Verdict
from twinaudit.gate.evaluation import evaluate
from twinaudit.gate.rules import load_rules, parse_rules
from twinaudit.results import SECTIONS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rule]\nname = 'x'", "not valid TOML"),
        ('[[rule]]\nname = "x"\npath = "a.b"\nmaxx = 1', "'x'.*unknown key 'maxx'"),
        ('[[rule]]\nname = "x"\npath = "a.b"', "'x'.*no bound"),
        ('[[rule]]\nname = "x"\npath = "a..b"\nmax = 1', "'x'.*bad path"),
        ('[[rule]]\nname = "x"\npath = "a"\nmax = "high"', "'max' must be a finite number"),
        ('[[rule]]\nname = "x"\npath = "a"\nmin = 2\nmax = 1', "min .* is above max"),
        ('[[rule]]\nname = "x"\npath = "a"\nmax = 1\nseverity = "loud"', "severity"),
        ('[[rule]]\nname = "x"\npath = "data.a"\nmax = 1\n' * 2, "twice"),
        ('[[rule]]\nname = "x"\npath = "parit.step0"\nmax = 1', "unknown path 'parit.step0'"),
        ('[[rule]]\nname = "x"\npath = "r[*].v"\nmax_drop = 0.1', r"\[\*\] cannot be paired"),
        ('[[rule]]\nname = "x"\npath = "a"\nmax_ratio = 1.1\nmax = 2', "cannot be combined"),
        ('[[rules]]\nname = "x"', "unknown top-level key 'rules'"),
    ],
)
def test_malformed_rules_are_input_errors_naming_file_and_rule(
    tmp_path: Path, text: str, expected: str, rules_from
) -> None:
    with pytest.raises(GateInputError, match=expected) as raised:
        rules_from(text, tmp_path)
    message = str(raised.value)
    assert "rules.toml" in message
    assert "\n" not in message


def test_missing_rules_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(GateInputError, match="not found"):
        load_rules(tmp_path / "absent.toml")


def test_parse_rules_accepts_a_table_from_an_audit_file(make_results) -> None:
    rules = parse_rules(
        {"rule": [{"name": "gap", "path": "parity.accuracy.difference", "max": 0.01}]},
        source="audits/adult.toml",
    )
    assert evaluate(make_results(), None, rules).exit_code == 0
    with pytest.raises(GateInputError, match="audits/adult.toml"):
        parse_rules({"rule": [{"name": "gap", "path": "a"}]}, source="audits/adult.toml")


# --- sections -----------------------------------------------------------------------------


def judge_one(document: dict[str, Any], path: str, bound: dict[str, Any]):
    """Parse one rule from a table (as an audit file would) and evaluate it on ``document``."""
    rules = parse_rules({"rule": [{"name": "probe", "path": path, **bound}]}, source="rules.toml")
    return evaluate(document, None, rules)


@pytest.mark.parametrize("section", SECTIONS)
def test_a_rule_on_every_results_section_parses_and_is_judged(section: str) -> None:
    document: dict[str, Any] = {"schema_version": 2, "kind": "twinaudit.results"}
    if section in document:
        # Pinned by the schema check (any other value is an input error): the value cannot be
        # moved past the bound, so the bound is moved past the value.
        holds = judge_one(document, section, {"equals": document[section]})
        broken = judge_one(document, section, {"equals": f"not {document[section]}"})
    else:
        document[section] = {"probe": 0.5}
        holds = judge_one(document, f"{section}.probe", {"max": 1.0})
        document[section]["probe"] = 1.5
        broken = judge_one(document, f"{section}.probe", {"max": 1.0})
    assert [check.verdict for check in holds.checks] == [Verdict.PASS]
    assert holds.exit_code == EXIT_PASS
    assert [check.verdict for check in broken.checks] == [Verdict.FAIL]
    assert broken.exit_code == EXIT_REGRESSION


@pytest.mark.parametrize(
    "path", ["anomaly.thresholds[framework=torch,seed=0].threshold", "counterfactual.twins"]
)
def test_sections_that_runs_write_are_known_to_the_gate(path: str) -> None:
    # Runs write these sections (docs/results-schema.md); the gate once rejected them (exit 2).
    [rule] = parse_rules({"rule": [{"name": "x", "path": path, "max": 1}]}, source="rules.toml")
    assert rule.path == path


@pytest.mark.parametrize("path", ["counterfactuals.twins", "anomalies", "Parity.step0"])
def test_a_rule_on_an_unknown_section_is_an_input_error(path: str) -> None:
    first = path.split(".")[0]
    with pytest.raises(GateInputError, match=f"'{first}' is not a section of results.json"):
        parse_rules({"rule": [{"name": "x", "path": path, "max": 1}]}, source="rules.toml")


def test_gate_input_errors_are_twinaudit_errors() -> None:
    # The command line turns every TwinauditError into exit code 2; ValueError stays a base
    # for callers that caught it before.
    with pytest.raises(TwinauditError) as raised:
        parse_rules({"rule": []}, source="rules.toml")
    assert isinstance(raised.value, GateInputError)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("setting, expected", [
    ("n_resamples = 10000000000", "'n_resamples' must be between 1 and 100,000"),
    ("min_samples = 9223372036854775807", "'min_samples' must be between 1 and 1,000,000"),
    ("n_resamples = 0", "'n_resamples' must be between 1"),
])
def test_timing_rule_sizes_are_bounded(tmp_path, setting, expected):
    from twinaudit.gate import GateInputError, load_rules

    path = tmp_path / "rules.toml"
    path.write_text(f'[[rule]]\nname = "t"\npath = "benchmarks.rows[*].ratio"\nmax_ratio = 1.1\n'
                    f"{setting}\n")
    with pytest.raises(GateInputError, match=expected):
        load_rules(path)
