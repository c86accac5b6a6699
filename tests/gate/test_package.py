"""Tests of the twinaudit.gate package face: the names callers import from it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import twinaudit
import twinaudit.gate as gate

PUBLIC = (
    "load_document", "check_document", "evaluate", "load_rules", "parse_rules", "render_table",
    "render_markdown", "write_junit", "promote_baseline", "GateInputError", "Verdict", "Rule",
    "Check", "GateReport", "parse_path", "format_path", "resolve", "bootstrap_ratio_of_medians",
    "EXIT_PASS", "EXIT_REGRESSION", "DEFAULT_RULES_PATH", "PREDICTION_TABLE_RULES_PATH",
    "default_rules_path",
)


@pytest.mark.parametrize("name", PUBLIC)
def test_the_package_re_exports_each_public_name(name: str) -> None:
    assert name in gate.__all__
    assert getattr(gate, name) is not None


def test_every_name_in_all_resolves() -> None:
    assert [name for name in gate.__all__ if not hasattr(gate, name)] == []


def test_evaluate_is_the_function_not_the_module_of_the_same_name() -> None:
    # twinaudit.gate.evaluation names both a module and the function it defines; callers such as
    # the command line use `gating.evaluate(...)`.
    assert callable(gate.evaluate)
    module = importlib.import_module("twinaudit.gate.evaluation")
    assert gate.evaluate is module.evaluate


def test_the_default_rules_ship_in_the_package_data_folder() -> None:
    # src/twinaudit/rules/default.toml: beside the gate package, not inside it.
    assert gate.DEFAULT_RULES_PATH.is_file()
    assert gate.DEFAULT_RULES_PATH.parent == Path(twinaudit.__file__).parent / "rules"


def test_a_prediction_table_run_gets_the_fairness_only_rules() -> None:
    twin_run = {"audit": {"spec": {"data": {"dataset": "adult"}}}}
    table_run = {"audit": {"spec": {"data": {"dataset": "predictions"}}}}
    assert gate.default_rules_path(twin_run) == gate.DEFAULT_RULES_PATH
    assert gate.default_rules_path({}) == gate.DEFAULT_RULES_PATH
    for odd in ({"audit": {"spec": {"data": 7}}}, {"audit": []}, {"audit": {"spec": None}}):
        assert gate.default_rules_path(odd) == gate.DEFAULT_RULES_PATH
    assert gate.default_rules_path(table_run) == gate.PREDICTION_TABLE_RULES_PATH
    names = [rule.name for rule in gate.load_rules(gate.PREDICTION_TABLE_RULES_PATH)]
    assert names == ["fairness.disparity_growth"]
    # The fairness rule there is the twin set's, but required: with nothing else to judge, a run
    # without fairness must not pass on nothing.
    (table_rule,) = gate.load_rules(gate.PREDICTION_TABLE_RULES_PATH)
    (twin_rule,) = [r for r in gate.load_rules() if r.name == "fairness.disparity_growth"]
    assert table_rule.required and not twin_rule.required
    assert table_rule.path == twin_rule.path
    assert table_rule.max_increase_ci == twin_rule.max_increase_ci
