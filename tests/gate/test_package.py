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
    "EXIT_PASS", "EXIT_REGRESSION", "DEFAULT_RULES_PATH",
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
