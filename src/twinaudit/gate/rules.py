"""Gate rule files: read TOML, validate each rule, and the :class:`Rule` they become.

Kept light: besides the standard library this module imports only other gate modules and
``twinaudit.results`` (for ``SECTIONS``) - no pandas, no numpy of its own - so an audit
definition can validate its ``[[gate.rule]]`` tables cheaply.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from twinaudit.gate.errors import GateInputError
from twinaudit.gate.paths import AnyItem, Key, Segment, parse_path
from twinaudit.results import SECTIONS
from twinaudit.toml_files import read_toml

# The rules folder is package data beside this package: src/twinaudit/rules/.
DEFAULT_RULES_PATH = Path(__file__).parent.with_name("rules") / "default.toml"
# A prediction-table run trains nothing: the twin rules (parity, accuracy, speed) do not apply.
PREDICTION_TABLE_RULES_PATH = DEFAULT_RULES_PATH.with_name("predictions.toml")

_ABSOLUTE_BOUNDS = ("min", "max", "equals")
_RELATIVE_BOUNDS = ("max_drop", "max_increase", "max_increase_ci")
_TIMING_BOUNDS = ("max_ratio",)
_BOUND_KEYS = _ABSOLUTE_BOUNDS + _RELATIVE_BOUNDS + _TIMING_BOUNDS
_OPTION_KEYS = (
    "name",
    "path",
    "description",
    "severity",
    "required",
    "magnitude",
    "reference_sibling",
    "confidence",
    "min_samples",
    "n_resamples",
)
_ALLOWED_RULE_KEYS = frozenset(_BOUND_KEYS + _OPTION_KEYS)
_SEVERITIES = ("error", "warn")

# Differences of floats such as 0.86 - 0.01 land a few ulps off 0.85; without this slack a
# value exactly on the bound would flip between pass and fail.
_RELATIVE_SLACK = 1e-12


@dataclass(frozen=True)
class Rule:
    """One gate rule, validated.

    Attributes
    ----------
    name : str
        Unique within a rule set; names the rule in every output.
    path : str
        Where the value lives in a results document (see :func:`parse_path`).
    minimum, maximum, equals
        Absolute bounds on the value.
    max_drop, max_increase : float or None
        The value may fall (rise) at most this far from the baseline's value.
    max_increase_ci : str or None
        Name of the sibling key holding ``[low, high]``; the value may rise at most that
        interval's half-width above the baseline's value.
    magnitude : bool
        Compare absolute values in relative bounds (for signed disparities).
    max_ratio : float or None
        Timing bound: the path holds timing samples; the ratio of their median to the
        reference samples' median must stay at or under this limit.
    reference_sibling : str or None
        For ``max_ratio``: the sibling key holding reference samples measured in the same run.
        Without it the reference is the baseline's samples at the same path.
    confidence : float
        Two-sided confidence of the bootstrap interval for ``max_ratio``.
    min_samples : int
        Fewer samples than this on either side make a timing check inconclusive.
    n_resamples : int
        Bootstrap resamples for ``max_ratio``.
    severity : {"error", "warn"}
        A failing ``warn`` rule is reported as ``warn`` and does not fail the gate.
    required : bool
        When false, a value absent from the results or the baseline is ``skipped``.
    description : str
        Free text shown nowhere but kept for readers of the rule file.
    """

    name: str
    path: str
    segments: tuple[Segment, ...]
    minimum: float | None = None
    maximum: float | None = None
    equals: Any = None
    max_drop: float | None = None
    max_increase: float | None = None
    max_increase_ci: str | None = None
    magnitude: bool = False
    max_ratio: float | None = None
    reference_sibling: str | None = None
    confidence: float = 0.95
    min_samples: int = 5
    n_resamples: int = 2000
    severity: str = "error"
    required: bool = True
    description: str = ""

    @property
    def is_timing(self) -> bool:
        return self.max_ratio is not None

    @property
    def needs_baseline(self) -> bool:
        """Whether the rule reads the baseline document."""
        relative = any(
            bound is not None for bound in (self.max_drop, self.max_increase, self.max_increase_ci)
        )
        return relative or (self.is_timing and self.reference_sibling is None)


def default_rules_path(document: Mapping[str, Any]) -> Path:
    """The packaged rule set for this results document: the twin rules, or, for a run of a
    prediction table (``[data] dataset = "predictions"``), the fairness-only ones."""
    node: Any = document
    for key in ("audit", "spec", "data", "dataset"):
        # Any of them may be absent or, in a hand-written document, not an object.
        node = node.get(key) if isinstance(node, Mapping) else None
    dataset = node
    return PREDICTION_TABLE_RULES_PATH if dataset == "predictions" else DEFAULT_RULES_PATH


def load_rules(path: str | os.PathLike[str] | None = None) -> list[Rule]:
    """Read a rule file; ``None`` reads the twin rule set shipped with the package
    (:func:`default_rules_path` picks the packaged set that suits a document).

    Raises
    ------
    GateInputError
        When the file cannot be read, is not TOML, or holds an invalid rule.
    """
    source = Path(path) if path is not None else DEFAULT_RULES_PATH
    table = read_toml(source, what="rules file", error=GateInputError)
    if "rule" not in table and isinstance(table.get("gate"), Mapping):
        # An audit definition carrying its own rules under [[gate.rule]].
        return parse_rules(table["gate"], source=f"{source} [gate]")
    return parse_rules(table, source=str(source))


def parse_rules(table: Mapping[str, Any], *, source: str = "<rules>") -> list[Rule]:
    """Validate an already-parsed rules table ``{"rule": [{...}, ...]}``.

    Audit definitions may carry their own rules as ``[[gate.rule]]`` tables: ``load_rules``
    accepts such a file too, and ``source`` names it so errors point at it.
    """
    unknown = sorted(set(table) - {"rule"})
    if unknown:
        raise GateInputError(
            f"{source}: unknown top-level key {unknown[0]!r}; expected only [[rule]] tables"
        )
    entries = table.get("rule")
    if not isinstance(entries, list) or not entries:
        raise GateInputError(f"{source}: no rules; expected one or more [[rule]] tables")
    rules = [_parse_rule(entry, index, source) for index, entry in enumerate(entries, start=1)]
    _reject_duplicate_names(rules, source)
    return rules


def _reject_duplicate_names(rules: list[Rule], source: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise GateInputError(
                f"{source}: rule name {rule.name!r} is used twice; names must be unique"
            )
        seen.add(rule.name)


def _parse_rule(entry: Any, index: int, source: str) -> Rule:
    if not isinstance(entry, Mapping):
        raise GateInputError(f"{source}: rule #{index} is not a table")
    label = f"{source}: rule #{index}" + (f" ({entry['name']!r})" if "name" in entry else "")

    def fail(message: str) -> GateInputError:
        return GateInputError(f"{label}: {message}")

    unknown = sorted(set(entry) - _ALLOWED_RULE_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_ALLOWED_RULE_KEYS))
        raise fail(f"unknown key {unknown[0]!r}; expected one of {allowed}")
    name = _require_text(entry, "name", fail)
    path = _require_text(entry, "path", fail)
    try:
        segments = parse_path(path)
    except ValueError as error:
        raise fail(f"bad path: {error}") from error
    bounds = [key for key in _BOUND_KEYS if key in entry]
    if not bounds:
        raise fail(f"no bound; give at least one of {', '.join(_BOUND_KEYS)}")
    rule = Rule(
        name=name,
        path=path,
        segments=segments,
        minimum=_optional_number(entry, "min", fail),
        maximum=_optional_number(entry, "max", fail),
        equals=_optional_scalar(entry, "equals", fail),
        max_drop=_optional_number(entry, "max_drop", fail, non_negative=True),
        max_increase=_optional_number(entry, "max_increase", fail, non_negative=True),
        max_increase_ci=_optional_text(entry, "max_increase_ci", fail),
        magnitude=_optional_bool(entry, "magnitude", False, fail),
        max_ratio=_optional_number(entry, "max_ratio", fail, positive=True),
        reference_sibling=_optional_text(entry, "reference_sibling", fail),
        confidence=_optional_number(entry, "confidence", fail, default=0.95),
        min_samples=_optional_integer(entry, "min_samples", 5, fail, maximum=1_000_000),
        n_resamples=_optional_integer(entry, "n_resamples", 2000, fail, maximum=100_000),
        severity=_optional_text(entry, "severity", fail) or "error",
        required=_optional_bool(entry, "required", True, fail),
        description=_optional_text(entry, "description", fail) or "",
    )
    _check_consistency(rule, entry, fail)
    first = rule.segments[0]
    if isinstance(first, Key) and not first.is_pattern and first.name not in SECTIONS:
        # A typo in a section name is the rules file's fault (exit 2); a documented section
        # whose metric is missing from a run is a regression (exit 1, fails closed).
        raise fail(f"unknown path {path!r}: {first.name!r} is not a section of results.json "
                   f"(expected one of {', '.join(SECTIONS)})")
    return rule


def _check_consistency(rule: Rule, entry: Mapping[str, Any], fail: Any) -> None:
    if rule.severity not in _SEVERITIES:
        raise fail(f"severity must be one of {', '.join(_SEVERITIES)}, not {rule.severity!r}")
    if rule.minimum is not None and rule.maximum is not None and rule.minimum > rule.maximum:
        raise fail(f"min ({rule.minimum}) is above max ({rule.maximum})")
    if rule.is_timing and any(key in entry for key in _ABSOLUTE_BOUNDS + _RELATIVE_BOUNDS):
        raise fail("max_ratio judges timing samples and cannot be combined with other bounds")
    timing_options = ("reference_sibling", "confidence", "min_samples", "n_resamples")
    if not rule.is_timing and any(key in entry for key in timing_options):
        raise fail("reference_sibling, confidence, min_samples and n_resamples need max_ratio")
    if "magnitude" in entry and not any(key in entry for key in _RELATIVE_BOUNDS):
        raise fail("magnitude applies to max_drop, max_increase and max_increase_ci only")
    if not 0.0 < rule.confidence < 1.0:
        raise fail(f"confidence must lie strictly between 0 and 1, not {rule.confidence}")
    if rule.min_samples < 2 or rule.n_resamples < 100:
        raise fail("min_samples must be at least 2 and n_resamples at least 100")
    if rule.needs_baseline and any(isinstance(segment, AnyItem) for segment in rule.segments):
        # List positions are not stable identities between two runs; a selector is.
        raise fail("[*] cannot be paired with the baseline; use a selector like [name=...]")


def _require_text(entry: Mapping[str, Any], key: str, fail: Any) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise fail(f"{key!r} must be a non-empty string")
    return value


def _optional_text(entry: Mapping[str, Any], key: str, fail: Any) -> str | None:
    value = entry.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise fail(f"{key!r} must be a non-empty string")
    return value


def _optional_bool(entry: Mapping[str, Any], key: str, default: bool, fail: Any) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise fail(f"{key!r} must be true or false")
    return value


def _optional_integer(entry: Mapping[str, Any], key: str, default: int, fail: Any, *,
                      maximum: int) -> int:
    # The bound keeps a typo (n_resamples = 10**10) from asking for hundreds of GiB.
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"{key!r} must be an integer")
    if not 1 <= value <= maximum:
        raise fail(f"{key!r} must be between 1 and {maximum:,}")
    return value


# With a number as the default the result is never None (the overloads say so to mypy).
@overload
def _optional_number(entry: Mapping[str, Any], key: str, fail: Any, *, non_negative: bool = ...,
                     positive: bool = ..., default: float) -> float: ...
@overload
def _optional_number(entry: Mapping[str, Any], key: str, fail: Any, *, non_negative: bool = ...,
                     positive: bool = ..., default: None = ...) -> float | None: ...
def _optional_number(
    entry: Mapping[str, Any],
    key: str,
    fail: Any,
    *,
    non_negative: bool = False,
    positive: bool = False,
    default: float | None = None,
) -> float | None:
    if key not in entry:
        return default
    value = entry[key]
    if not _is_number(value) or not math.isfinite(value):
        raise fail(f"{key!r} must be a finite number")
    if non_negative and value < 0:
        raise fail(f"{key!r} must not be negative")
    if positive and value <= 0:
        raise fail(f"{key!r} must be positive")
    return float(value)


def _optional_scalar(entry: Mapping[str, Any], key: str, fail: Any) -> Any:
    value = entry.get(key)
    if value is not None and not isinstance(value, (str, int, float, bool)):
        raise fail(f"{key!r} must be a string, number or boolean")
    return value


def _is_number(value: Any) -> bool:
    # bool is an int in Python; a `true` where a number belongs is a mistake, not 1.
    return isinstance(value, (int, float)) and not isinstance(value, bool)
