"""Reading results documents and judging them by rules, against a baseline where asked."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from twinaudit.gate.checks import Check, GateReport, _check, _describe_bounds, _missing
from twinaudit.gate.errors import GateInputError, Verdict
from twinaudit.gate.paths import Match, Resolution, _format_value, _kind_of, resolve
from twinaudit.gate.rules import _RELATIVE_SLACK, Rule, _is_number
from twinaudit.gate.timing import _judge_timing
from twinaudit.results import SCHEMA_VERSION, check_results, read_results

# The results schema this gate understands. Kept here (rather than imported from results.py)
# so the gate can read and reject documents without importing the rest of the package.
SUPPORTED_SCHEMA_VERSION = SCHEMA_VERSION


# The one reader of results documents is the results package's; the gate names it its way.
load_document = read_results
check_document = check_results


def evaluate(
    results: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    rules: Sequence[Rule],
    *,
    inconclusive_fails: bool = False,
) -> GateReport:
    """Judge ``results`` by ``rules``, against ``baseline`` where a rule asks for it.

    Parameters
    ----------
    results : dict
        A results document (``schema_version`` 1).
    baseline : dict or None
        An earlier results document of the same schema version; ``None`` when no rule needs it.
    rules : sequence of Rule
        From :func:`load_rules` or :func:`parse_rules`.
    inconclusive_fails : bool, keyword-only
        Count ``inconclusive`` checks of ``error`` rules as failures (a strict CI).

    Returns
    -------
    GateReport

    Raises
    ------
    GateInputError
        On a schema version mismatch, or when a rule needs a baseline and none is given.
    """
    check_document(results, source="results")
    if baseline is not None:
        check_document(baseline, source="baseline")
    checks: list[Check] = []
    for rule in rules:
        if rule.needs_baseline and baseline is None:
            raise GateInputError(
                f"rule {rule.name!r} compares against a baseline, but no baseline was given"
            )
        checks.extend(_evaluate_rule(rule, results, baseline))
    return GateReport(checks=tuple(checks), inconclusive_fails=inconclusive_fails)


def _evaluate_rule(
    rule: Rule, results: Mapping[str, Any], baseline: Mapping[str, Any] | None
) -> list[Check]:
    current = resolve(results, rule.segments)
    previous = resolve(baseline, rule.segments) if rule.needs_baseline else Resolution()
    ambiguities = current.ambiguities + previous.ambiguities
    if ambiguities:
        return [_check(rule, rule.path, Verdict.FAIL, message=f"ambiguous: {ambiguities[0]}")]
    current_by_path = {match.path_text: match for match in current.matches}
    previous_by_path = {match.path_text: match for match in previous.matches}
    # Pair by concrete path over both documents: a metric present in the baseline but gone from
    # the results must fail, not vanish from a glob's expansion.
    paths = list(current_by_path)
    paths += [path for path in previous_by_path if path not in current_by_path]
    if not paths:
        reason = current.misses[0] if current.misses else "nothing matched"
        return [_missing(rule, rule.path, f"missing from results: {reason}")]
    return [
        _judge(rule, path, current_by_path.get(path), previous_by_path.get(path)) for path in paths
    ]


def _judge(rule: Rule, path: str, current: Match | None, previous: Match | None) -> Check:
    if current is None:
        return _missing(rule, path, "missing from results (present in the baseline)")
    if rule.needs_baseline and previous is None:
        message = "missing from the baseline; promote a new baseline with `twinaudit baseline`"
        return _missing(rule, path, message)
    if rule.is_timing:
        return _judge_timing(rule, path, current, previous)
    return _judge_bounds(rule, path, current, previous)


def _judge_bounds(rule: Rule, path: str, current: Match, previous: Match | None) -> Check:
    value = current.value
    baseline_value = previous.value if previous is not None else None
    if rule.needs_baseline and value is None and baseline_value is None:
        # Undefined in both runs (null: e.g. a disparity with no privileged group named):
        # nothing regressed, and nothing passed either.
        return _check(rule, path, Verdict.SKIPPED, expected=_describe_bounds(rule),
                      message="not computable (null) in the results and the baseline")
    problems = _absolute_problems(rule, value)
    if rule.needs_baseline and not problems:
        problems = _relative_problems(rule, current, baseline_value)
    verdict = Verdict.FAIL if problems else Verdict.PASS
    return _check(
        rule,
        path,
        verdict,
        value=value,
        baseline_value=baseline_value,
        expected=_describe_bounds(rule),
        message="; ".join(problems),
    )


def _absolute_problems(rule: Rule, value: Any) -> list[str]:
    problems: list[str] = []
    if rule.equals is not None and not _same_scalar(value, rule.equals):
        problems.append(f"{_format_value(value)} is not {_format_value(rule.equals)}")
    if rule.minimum is None and rule.maximum is None and not rule.needs_baseline:
        return problems
    if not _is_number(value) or not math.isfinite(value):
        return problems + [f"expected a finite number, found {_kind_of(value)}"]
    if rule.minimum is not None and value < rule.minimum:
        problems.append(f"{_format_value(value)} is below min {_format_value(rule.minimum)}")
    if rule.maximum is not None and value > rule.maximum:
        problems.append(f"{_format_value(value)} is above max {_format_value(rule.maximum)}")
    return problems


def _same_scalar(value: Any, expected: Any) -> bool:
    if _is_number(value) and _is_number(expected):
        return value == expected
    return type(value) is type(expected) and value == expected


def _relative_problems(rule: Rule, current: Match, baseline_value: Any) -> list[str]:
    if not _is_number(baseline_value) or not math.isfinite(baseline_value):
        return [f"baseline value is not a finite number: {_kind_of(baseline_value)}"]
    value = abs(current.value) if rule.magnitude else current.value
    reference = abs(baseline_value) if rule.magnitude else baseline_value
    change = value - reference
    problems: list[str] = []
    if rule.max_drop is not None and -change > rule.max_drop + _RELATIVE_SLACK:
        problems.append(
            f"dropped by {_format_value(-change)} from baseline {_format_value(reference)}, "
            f"more than max_drop {_format_value(rule.max_drop)}"
        )
    if rule.max_increase is not None and change > rule.max_increase + _RELATIVE_SLACK:
        problems.append(
            f"rose by {_format_value(change)} from baseline {_format_value(reference)}, "
            f"more than max_increase {_format_value(rule.max_increase)}"
        )
    if rule.max_increase_ci is not None:
        problems.extend(_ci_growth_problems(rule, current, change, reference))
    return problems


def _ci_growth_problems(rule: Rule, current: Match, change: float, reference: float) -> list[str]:
    sibling = rule.max_increase_ci
    interval = current.parent.get(sibling) if isinstance(current.parent, Mapping) else None
    if not _is_interval(interval):
        return [f"sibling {sibling!r} is missing or not a [low, high] pair of numbers"]
    # The current run's own interval: growth within it is indistinguishable from resampling
    # noise in this run's estimate.
    half_width = (interval[1] - interval[0]) / 2
    if change > half_width + _RELATIVE_SLACK:
        return [
            f"rose by {_format_value(change)} from baseline {_format_value(reference)}, more "
            f"than the {sibling} half-width {_format_value(half_width)}"
        ]
    return []


def _is_interval(value: Any) -> TypeGuard[list[float]]:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(bound) and math.isfinite(bound) for bound in value)
        and value[0] <= value[1]
    )
