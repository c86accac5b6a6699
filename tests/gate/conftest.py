"""Shared fixtures of the gate tests: a small results document and rule-file helpers.

Each fixture hands out a plain function (a factory), so a test calls ``make_results()`` or
``one_rule(tmp_path, body)`` as often as it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from twinaudit.gate.rules import Rule, load_rules
from twinaudit.vocabulary import FRAMEWORKS


def _make_results() -> dict[str, Any]:
    """A small but complete schema-1 results document."""
    return {
        "schema_version": 2,
        "kind": "twinaudit.results",
        "audit": {"name": "adult"},
        "parity": {
            "step0": {"max_abs_logit_diff": 3e-7, "tolerance": 1e-5, "passed": True},
            "one_step": {"max_rel_param_diff": 2e-8, "tolerance": 1e-6, "passed": True},
            "proof": {"passed": True, "text": "identical"},
            "verdict": {"passed": True, "outcome": "equivalent", "text": "PASS: identical"},
            "accuracy": {
                "by_framework": dict(zip(FRAMEWORKS[:2], (
                    {"mean": 0.851, "std": 0.002, "values": [0.85, 0.853, 0.85]},
                    {"mean": 0.850, "std": 0.002, "values": [0.849, 0.851, 0.85]},
                ), strict=True)),
                "difference": 0.001,
                "within_seed_noise": True,
            },
        },
        "fairness": {
            framework: {
                "sex": {
                    "disparities": {
                        "demographic_parity_difference": {"value": 0.18, "ci": [0.16, 0.20]},
                        "statistical_parity_difference": {"value": -0.18, "ci": [-0.2, -0.16]},
                    }
                }
            }
            for framework in FRAMEWORKS
        },
        "benchmarks": {
            "rows": [
                {"name": "train_epoch", "framework": "torch", "ratio": 1.03},
                {"name": "train_epoch", "framework": "keras", "ratio": 1.10},
            ]
        },
    }


def _rules_from(text: str, tmp_path: Path) -> list:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def _one_rule(tmp_path: Path, body: str) -> list:
    return _rules_from(f'[[rule]]\nname = "under-test"\n{body}\n', tmp_path)


@pytest.fixture
def make_results() -> Callable[[], dict[str, Any]]:
    """``make_results()``: a fresh small but complete schema-1 results document."""
    return _make_results


@pytest.fixture
def rules_from() -> Callable[[str, Path], list[Rule]]:
    """``rules_from(text, tmp_path)``: write ``text`` to ``tmp_path/rules.toml`` and load it."""
    return _rules_from


@pytest.fixture
def one_rule() -> Callable[[Path, str], list[Rule]]:
    """``one_rule(tmp_path, body)``: a rule file of one rule named ``under-test``."""
    return _one_rule
