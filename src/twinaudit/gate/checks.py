"""Checks (one rule's verdict on one value), the report that collects them, and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twinaudit.gate.errors import Verdict
from twinaudit.gate.paths import _format_value
from twinaudit.gate.rules import Rule

EXIT_PASS = 0
EXIT_REGRESSION = 1


@dataclass(frozen=True)
class Check:
    """The verdict of one rule on one value.

    Attributes
    ----------
    rule : str
        The rule's name.
    path : str
        The concrete path judged (globs and ``[*]`` replaced by what they matched).
    verdict : Verdict
    value : Any
        The value found in the results (for timing checks: the ratio of medians).
    baseline_value : Any
        The baseline's value, for relative rules.
    expected : str
        The bound, in words and numbers.
    message : str
        Why the verdict is what it is.
    severity : str
        The rule's severity.
    """

    rule: str
    path: str
    verdict: Verdict
    value: Any = None
    baseline_value: Any = None
    expected: str = ""
    message: str = ""
    severity: str = "error"


@dataclass(frozen=True)
class GateReport:
    """All checks of one gate run.

    Attributes
    ----------
    checks : tuple of Check
    inconclusive_fails : bool
        When true, an ``inconclusive`` check of an ``error`` rule fails the gate too.
    """

    checks: tuple[Check, ...]
    inconclusive_fails: bool = False

    def count(self, verdict: Verdict) -> int:
        """How many checks ended with ``verdict``."""
        return sum(check.verdict is verdict for check in self.checks)

    def is_failure(self, check: Check) -> bool:
        """Whether ``check`` makes the gate fail."""
        if check.verdict is Verdict.FAIL:
            return True
        return (
            self.inconclusive_fails
            and check.verdict is Verdict.INCONCLUSIVE
            and check.severity == "error"
        )

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that make the gate fail."""
        return tuple(check for check in self.checks if self.is_failure(check))

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        """0 when every check passes (or is skipped, warned, inconclusive); 1 otherwise."""
        return EXIT_PASS if self.passed else EXIT_REGRESSION

    def summary(self) -> str:
        """One line: the outcome and the count of each verdict."""
        counts = ", ".join(
            f"{self.count(verdict)} {verdict.value}" for verdict in Verdict if self.count(verdict)
        )
        outcome = "PASSED" if self.passed else "FAILED"
        return f"gate {outcome}: {counts or 'no checks'}"


def _check(rule: Rule, path: str, verdict: Verdict, **details: Any) -> Check:
    if verdict is Verdict.FAIL and rule.severity == "warn":
        verdict = Verdict.WARN
    return Check(rule=rule.name, path=path, verdict=verdict, severity=rule.severity, **details)


def _missing(rule: Rule, path: str, message: str) -> Check:
    verdict = Verdict.FAIL if rule.required else Verdict.SKIPPED
    return _check(rule, path, verdict, message=message, expected=_describe_bounds(rule))


def _describe_bounds(rule: Rule) -> str:
    parts: list[str] = []
    if rule.equals is not None:
        parts.append(f"== {_format_value(rule.equals)}")
    if rule.minimum is not None:
        parts.append(f">= {_format_value(rule.minimum)}")
    if rule.maximum is not None:
        parts.append(f"<= {_format_value(rule.maximum)}")
    prefix = "|value| " if rule.magnitude else ""
    if rule.max_drop is not None:
        parts.append(f"{prefix}drop <= {_format_value(rule.max_drop)}")
    if rule.max_increase is not None:
        parts.append(f"{prefix}rise <= {_format_value(rule.max_increase)}")
    if rule.max_increase_ci is not None:
        parts.append(f"{prefix}rise <= {rule.max_increase_ci} half-width")
    if rule.max_ratio is not None:
        against = rule.reference_sibling or "baseline"
        parts.append(f"median ratio vs {against} <= {_format_value(rule.max_ratio)}")
    return ", ".join(parts)
