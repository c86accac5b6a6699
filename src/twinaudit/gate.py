"""The regression gate: rules over ``results.json``, judged against a baseline.

A gate run reads one results document, an optional baseline document (an earlier results
document promoted with :func:`promote_baseline`) and a rule set (TOML). Every rule addresses a
value by a path (see ``docs/gate.md``) and states a bound: absolute (``max``, ``min``,
``equals``), relative to the baseline (``max_drop``, ``max_increase``, ``max_increase_ci``) or a
timing bound judged with a bootstrap interval (``max_ratio``). Each rule expands into one
:class:`Check` per matched value; the :class:`GateReport` collects them and decides the exit
code.

The gate fails closed: a value a required rule names that is missing from the results (or, for
relative rules, from the baseline) is a failure, never a pass. Problems with the inputs
themselves (unreadable files, unknown rule keys, schema version mismatches) raise
:class:`GateInputError`, which the command line turns into exit code 2.

This module imports no deep-learning framework.
"""

from __future__ import annotations

import enum
import fnmatch
import json
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from twinaudit.results import SCHEMA_VERSION, SECTIONS, write_atomic

__all__ = [
    "SUPPORTED_SCHEMA_VERSION",
    "RESULTS_KIND",
    "DEFAULT_RULES_PATH",
    "GateInputError",
    "Verdict",
    "Rule",
    "Check",
    "GateReport",
    "load_document",
    "load_rules",
    "parse_rules",
    "parse_path",
    "format_path",
    "resolve",
    "check_document",
    "Key",
    "Index",
    "AnyItem",
    "Select",
    "Match",
    "Resolution",
    "evaluate",
    "bootstrap_ratio_of_medians",
    "render_table",
    "render_markdown",
    "write_junit",
    "promote_baseline",
]

# The results schema this gate understands. Kept here (rather than imported from results.py)
# so the gate can read and reject documents without importing the rest of the package.
SUPPORTED_SCHEMA_VERSION = SCHEMA_VERSION
RESULTS_KIND = "twinaudit.results"
DEFAULT_RULES_PATH = Path(__file__).with_name("rules") / "default.toml"

EXIT_PASS = 0
EXIT_REGRESSION = 1


class GateInputError(ValueError):
    """An input to the gate is unusable: a file, a rule or a document's schema.

    The message is one line naming the file, rule or path and what was expected. The command
    line reports it and exits with code 2.
    """


class Verdict(enum.StrEnum):
    """The outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    # A timing check whose interval straddles the limit: the data cannot tell, and saying
    # so is more honest than passing silently.
    INCONCLUSIVE = "inconclusive"
    # A failure of a rule with ``severity = "warn"``: reported, but does not fail the gate.
    WARN = "warn"
    # An optional rule (``required = false``) whose value is absent.
    SKIPPED = "skipped"


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """A dictionary key; ``pattern`` holds ``*`` globs unless the key was quoted."""

    name: str
    is_pattern: bool = False


@dataclass(frozen=True)
class Index:
    """A list position; negative positions count from the end, as in Python."""

    position: int


@dataclass(frozen=True)
class AnyItem:
    """``[*]``: every item of a list."""


@dataclass(frozen=True)
class Select:
    """``[field=value,...]``: the one list item (an object) whose fields all match."""

    conditions: tuple[tuple[str, str], ...]


Segment = Key | Index | AnyItem | Select

_PLAIN_KEY = re.compile(r"[^.\[\]\"\s]+")
_SELECTOR_PAIR = re.compile(r"\s*([^=,\]\s]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^,\]]*?)\s*(?:,|$)")


def parse_path(text: str) -> tuple[Segment, ...]:
    """Parse a rule path such as ``benchmarks.rows[name=train_epoch].ratio``.

    Parameters
    ----------
    text : str
        Dotted keys; ``"quoted keys"`` for keys holding dots or brackets; ``*`` globs inside
        unquoted keys; ``[2]`` / ``[-1]`` list positions; ``[*]`` every list item;
        ``[field=value,...]`` the list item whose fields match.

    Returns
    -------
    tuple of Segment

    Raises
    ------
    ValueError
        With the offending position, when the text is not a path.
    """
    segments: list[Segment] = []
    position = 0
    expect_key = True
    while position < len(text):
        character = text[position]
        if expect_key:
            key, position = _parse_key(text, position)
            segments.append(key)
            expect_key = False
        elif character == "[":
            segment, position = _parse_bracket(text, position)
            segments.append(segment)
        elif character == ".":
            position += 1
            expect_key = True
        else:
            raise ValueError(f"unexpected {character!r} at position {position} in path {text!r}")
    if expect_key:
        raise ValueError(f"path {text!r} is empty or ends with '.'")
    return tuple(segments)


def _parse_key(text: str, position: int) -> tuple[Key, int]:
    if text.startswith('"', position):
        # json.JSONDecoder.raw_decode reads exactly one string literal, escapes included.
        try:
            name, end = json.JSONDecoder().raw_decode(text, position)
        except json.JSONDecodeError as error:
            message = f"unterminated quoted key at position {position} in {text!r}"
            raise ValueError(message) from error
        return Key(name), end
    match = _PLAIN_KEY.match(text, position)
    if match is None:
        raise ValueError(f"expected a key at position {position} in path {text!r}")
    name = match.group()
    return Key(name, is_pattern="*" in name), match.end()


def _parse_bracket(text: str, position: int) -> tuple[Segment, int]:
    end = _closing_bracket(text, position)
    inner = text[position + 1 : end].strip()
    if inner == "*":
        return AnyItem(), end + 1
    if re.fullmatch(r"-?\d+", inner):
        return Index(int(inner)), end + 1
    conditions = _parse_selector(inner, text)
    return Select(conditions), end + 1


def _closing_bracket(text: str, position: int) -> int:
    in_quotes = False
    cursor = position + 1
    while cursor < len(text):
        character = text[cursor]
        if in_quotes and character == "\\":
            cursor += 2  # an escaped character cannot close the quotes
            continue
        if character == '"':
            in_quotes = not in_quotes
        elif character == "]" and not in_quotes:
            return cursor
        cursor += 1
    raise ValueError(f"unclosed '[' at position {position} in path {text!r}")


def _parse_selector(inner: str, text: str) -> tuple[tuple[str, str], ...]:
    conditions: list[tuple[str, str]] = []
    cursor = 0
    while cursor < len(inner):
        match = _SELECTOR_PAIR.match(inner, cursor)
        if match is None or match.end() == cursor:
            raise ValueError(
                f"expected [index], [*] or [field=value,...] in path {text!r}, found [{inner}]"
            )
        raw_value = match.group(2)
        value = json.loads(raw_value) if raw_value.startswith('"') else raw_value
        conditions.append((match.group(1), value))
        cursor = match.end()
    if not conditions:
        raise ValueError(f"empty selector [] in path {text!r}")
    return tuple(conditions)


def format_path(segments: Sequence[Segment]) -> str:
    """Write segments back as path text (the inverse of :func:`parse_path`)."""
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, Key):
            plain = segment.is_pattern or (
                _PLAIN_KEY.fullmatch(segment.name) is not None and "*" not in segment.name
            )
            text = segment.name if plain else json.dumps(segment.name)
            parts.append(("." if parts else "") + text)
        elif isinstance(segment, Index):
            parts.append(f"[{segment.position}]")
        elif isinstance(segment, AnyItem):
            parts.append("[*]")
        else:
            pairs = ",".join(
                f"{name}={_format_selector_value(value)}" for name, value in segment.conditions
            )
            parts.append(f"[{pairs}]")
    return "".join(parts)


def _format_selector_value(value: str) -> str:
    needs_quotes = value != value.strip() or any(character in value for character in ',]"')
    return json.dumps(value) if needs_quotes else value


@dataclass(frozen=True)
class Match:
    """One value a path found: its concrete path, the value, and the object holding it."""

    path: tuple[Segment, ...]
    value: Any
    parent: Any

    @property
    def path_text(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class Resolution:
    """Everything a path found in one document, and why the branches that found nothing failed."""

    matches: list[Match] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    ambiguities: list[str] = field(default_factory=list)


def resolve(document: Any, segments: Sequence[Segment]) -> Resolution:
    """Find every value ``segments`` addresses in ``document``.

    A glob key or ``[*]`` may match many values; a branch where the rest of the path does not
    exist is recorded as a miss rather than an error, so ``parity.accuracy.*.mean`` skips the
    keys of ``accuracy`` that hold no ``mean``.
    """
    resolution = Resolution()
    _walk(document, None, tuple(segments), (), resolution)
    return resolution


def _walk(
    node: Any,
    parent: Any,
    remaining: tuple[Segment, ...],
    walked: tuple[Segment, ...],
    resolution: Resolution,
) -> None:
    if not remaining:
        resolution.matches.append(Match(walked, node, parent))
        return
    segment, rest = remaining[0], remaining[1:]
    for child_segment, child in _children(node, segment, walked, resolution):
        _walk(child, node, rest, walked + (child_segment,), resolution)


def _children(
    node: Any, segment: Segment, walked: tuple[Segment, ...], resolution: Resolution
) -> Iterator[tuple[Segment, Any]]:
    where = format_path(walked) or "the document root"
    if isinstance(segment, Key):
        if not isinstance(node, Mapping):
            resolution.misses.append(f"{where} is {_kind_of(node)}, not an object")
        elif segment.is_pattern:
            found = [key for key in node if fnmatch.fnmatchcase(key, segment.name)]
            if not found:
                resolution.misses.append(f"no key under {where} matches {segment.name!r}")
            for key in found:
                yield Key(key), node[key]
        elif segment.name in node:
            yield segment, node[segment.name]
        else:
            resolution.misses.append(f"key {segment.name!r} not found under {where}")
    elif not isinstance(node, list):
        resolution.misses.append(f"{where} is {_kind_of(node)}, not a list")
    elif isinstance(segment, Index):
        if -len(node) <= segment.position < len(node):
            yield segment, node[segment.position]
        else:
            resolution.misses.append(f"{where} has {len(node)} items, no [{segment.position}]")
    elif isinstance(segment, AnyItem):
        if not node:
            resolution.misses.append(f"{where} is an empty list")
        for position, item in enumerate(node):
            yield Index(position), item
    else:
        yield from _select(node, segment, where, resolution)


def _select(
    items: list[Any], segment: Select, where: str, resolution: Resolution
) -> Iterator[tuple[Segment, Any]]:
    chosen = [item for item in items if _item_matches(item, segment.conditions)]
    selector = format_path([segment])
    if not chosen:
        resolution.misses.append(f"no item of {where} matches {selector}")
    elif len(chosen) > 1:
        # Picking one would make the verdict depend on list order; refuse instead.
        resolution.ambiguities.append(
            f"{len(chosen)} items of {where} match {selector}; add fields to make it unique"
        )
    else:
        yield segment, chosen[0]


def _item_matches(item: Any, conditions: tuple[tuple[str, str], ...]) -> bool:
    if not isinstance(item, Mapping):
        return False
    return all(name in item and _selector_text(item[name]) == value for name, value in conditions)


def _selector_text(value: Any) -> str:
    # Selector values are written as text; compare JSON scalars by their JSON spelling so
    # `[passed=true]` and `[seed=3]` work.
    return value if isinstance(value, str) else json.dumps(value)


def _kind_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__} ({_format_value(value)})"


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

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


def load_rules(path: str | os.PathLike[str] | None = None) -> list[Rule]:
    """Read a rule file; ``None`` reads the rule set shipped with the package.

    Raises
    ------
    GateInputError
        When the file cannot be read, is not TOML, or holds an invalid rule.
    """
    source = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        with source.open("rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError as error:
        raise GateInputError(f"{source}: rules file not found") from error
    except tomllib.TOMLDecodeError as error:
        raise GateInputError(f"{source}: not valid TOML: {error}") from error
    except OSError as error:
        raise GateInputError(f"{source}: cannot read rules file: {error.strerror}") from error
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
        min_samples=_optional_integer(entry, "min_samples", 5, fail),
        n_resamples=_optional_integer(entry, "n_resamples", 2000, fail),
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


def _optional_integer(entry: Mapping[str, Any], key: str, default: int, fail: Any) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"{key!r} must be an integer")
    return value


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


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def load_document(path: str | os.PathLike[str], *, role: str = "results") -> dict[str, Any]:
    """Read a results (or baseline) JSON document and check its schema version.

    Parameters
    ----------
    path : path-like
        The JSON file.
    role : str
        ``"results"`` or ``"baseline"``; used in error messages only.

    Raises
    ------
    GateInputError
        When the file is missing, is not a JSON object, or carries another schema.
    """
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise GateInputError(f"{source}: {role} file not found") from error
    except json.JSONDecodeError as error:
        raise GateInputError(
            f"{source}: {role} file is not valid JSON (line {error.lineno}, column {error.colno})"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise GateInputError(f"{source}: cannot read {role} file: {error}") from error
    check_document(document, source=str(source))
    return document


def check_document(document: Any, *, source: str) -> None:
    """Raise :class:`GateInputError` unless ``document`` is a results document we support."""
    if not isinstance(document, dict):
        raise GateInputError(f"{source}: expected a JSON object at the top level")
    kind = document.get("kind", RESULTS_KIND)
    if kind != RESULTS_KIND:
        raise GateInputError(f"{source}: kind is {kind!r}, expected {RESULTS_KIND!r}")
    version = document.get("schema_version")
    if version != SUPPORTED_SCHEMA_VERSION:
        raise GateInputError(
            f"{source}: schema_version is {version!r}, this gate reads schema_version "
            f"{SUPPORTED_SCHEMA_VERSION}"
        )


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


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


def _check(rule: Rule, path: str, verdict: Verdict, **details: Any) -> Check:
    if verdict is Verdict.FAIL and rule.severity == "warn":
        verdict = Verdict.WARN
    return Check(rule=rule.name, path=path, verdict=verdict, severity=rule.severity, **details)


def _missing(rule: Rule, path: str, message: str) -> Check:
    verdict = Verdict.FAIL if rule.required else Verdict.SKIPPED
    return _check(rule, path, verdict, message=message, expected=_describe_bounds(rule))


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


def _is_interval(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(bound) and math.isfinite(bound) for bound in value)
        and value[0] <= value[1]
    )


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


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def bootstrap_ratio_of_medians(
    samples: Sequence[float],
    reference_samples: Sequence[float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval for ``median(samples) / median(reference_samples)``.

    Each side is resampled independently (the runs are not paired). The seed is fixed so the
    same inputs always give the same verdict.

    Returns
    -------
    estimate, low, high : float
    """
    generator = np.random.default_rng(seed)
    current = np.asarray(samples, dtype=float)
    reference = np.asarray(reference_samples, dtype=float)
    # (n_resamples, n) index matrices: every resample's median in one vectorised call.
    current_medians = np.median(
        current[generator.integers(0, current.size, (n_resamples, current.size))], axis=1
    )
    reference_medians = np.median(
        reference[generator.integers(0, reference.size, (n_resamples, reference.size))], axis=1
    )
    ratios = current_medians / reference_medians
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    estimate = float(np.median(current) / np.median(reference))
    return estimate, float(low), float(high)


def _judge_timing(rule: Rule, path: str, current: Match, previous: Match | None) -> Check:
    assert rule.max_ratio is not None
    if rule.reference_sibling is not None:
        parent = current.parent
        if not isinstance(parent, Mapping) or rule.reference_sibling not in parent:
            message = f"sibling {rule.reference_sibling!r} is missing from results"
            return _missing(rule, path, message)
        reference = parent[rule.reference_sibling]
    else:
        reference = previous.value if previous is not None else None
    expected = _describe_bounds(rule)
    for label, candidate in (("samples", current.value), ("reference samples", reference)):
        if not _is_sample_list(candidate):
            message = (
                f"{label} must be a list of positive finite timings, found {_kind_of(candidate)}"
            )
            return _check(rule, path, Verdict.FAIL, expected=expected, message=message)
    if min(len(current.value), len(reference)) < rule.min_samples:
        message = (
            f"too few samples to judge (n={len(current.value)} vs {len(reference)}; "
            f"need {rule.min_samples} each)"
        )
        return _check(rule, path, Verdict.INCONCLUSIVE, expected=expected, message=message)
    estimate, low, high = bootstrap_ratio_of_medians(
        current.value, reference, confidence=rule.confidence, n_resamples=rule.n_resamples
    )
    verdict, reading = _timing_verdict(low, high, rule.max_ratio)
    interval = f"ratio {estimate:.3g}, {rule.confidence:.0%} CI [{low:.3g}, {high:.3g}]"
    message = f"{interval} {reading}"
    return _check(rule, path, verdict, value=estimate, expected=expected, message=message)


def _timing_verdict(low: float, high: float, limit: float) -> tuple[Verdict, str]:
    if high <= limit:
        return Verdict.PASS, f"lies under {_format_value(limit)}"
    if low > limit:
        return Verdict.FAIL, f"lies above {_format_value(limit)}"
    return Verdict.INCONCLUSIVE, f"straddles {_format_value(limit)}; more samples needed"


def _is_sample_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        _is_number(sample) and math.isfinite(sample) and sample > 0 for sample in value
    )


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

_COLUMNS = ("verdict", "rule", "path", "value", "baseline", "expected", "message")


def _format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return f"[{len(value)} values]" if len(value) > 4 else json.dumps(value)
    return str(value)


def _rows(report: GateReport) -> list[tuple[str, ...]]:
    return [
        (
            check.verdict.value.upper(),
            check.rule,
            check.path,
            _format_value(check.value),
            _format_value(check.baseline_value),
            check.expected,
            check.message,
        )
        for check in report.checks
    ]


def render_table(report: GateReport) -> str:
    """A plain-text table of every check, then the one-line summary."""
    rows = [tuple(column.upper() for column in _COLUMNS), *_rows(report)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines + ["", report.summary()]) + "\n"


def render_markdown(report: GateReport) -> str:
    """A Markdown summary (a heading, the counts, a table) for a CI job summary."""
    header = "| " + " | ".join(column.capitalize() for column in _COLUMNS) + " |"
    divider = "|" + "|".join("---" for _ in _COLUMNS) + "|"
    body = ["| " + " | ".join(_markdown_cell(cell) for cell in row) + " |" for row in _rows(report)]
    icon = "✅" if report.passed else "❌"
    return "\n".join([f"## {icon} twinaudit {report.summary()}", "", header, divider, *body]) + "\n"


def _markdown_cell(text: str) -> str:
    # A '|' would end the cell; newlines would end the row.
    return text.replace("|", "\\|").replace("\n", " ")


def write_junit(report: GateReport, path: str | os.PathLike[str]) -> Path:
    """Write the report as JUnit XML: one ``testcase`` per check, ``classname`` = rule name.

    ``fail`` (and, when ``inconclusive_fails``, ``inconclusive``) becomes ``<failure>``;
    ``inconclusive`` and ``skipped`` become ``<skipped>``; ``warn`` passes with its message in
    ``<system-out>``. The file is written atomically.
    """
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": "twinaudit.gate",
            "tests": str(len(report.checks)),
            "failures": str(len(report.failures)),
            "errors": "0",
            "skipped": str(sum(_junit_skipped(report, check) for check in report.checks)),
        },
    )
    for check in report.checks:
        _add_testcase(suite, report, check)
    ElementTree.indent(suite)
    payload = ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"
    target = Path(path)
    write_atomic(target, payload)
    return target


def _junit_skipped(report: GateReport, check: Check) -> bool:
    return check.verdict in (Verdict.SKIPPED, Verdict.INCONCLUSIVE) and not report.is_failure(check)


def _add_testcase(suite: ElementTree.Element, report: GateReport, check: Check) -> None:
    case = ElementTree.SubElement(suite, "testcase", {"classname": check.rule, "name": check.path})
    text = f"{check.verdict.value}: {check.message}".rstrip(": ")
    if report.is_failure(check):
        attributes = {"message": text, "type": check.verdict.value}
        failure = ElementTree.SubElement(case, "failure", attributes)
        failure.text = f"value {_format_value(check.value)}; expected {check.expected}"
    elif _junit_skipped(report, check):
        ElementTree.SubElement(case, "skipped", {"message": text})
    elif check.verdict is Verdict.WARN:
        ElementTree.SubElement(case, "system-out").text = text


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------

_SAFE_AUDIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def promote_baseline(
    results_path: str | os.PathLike[str], baseline_dir: str | os.PathLike[str] = "reports/baseline"
) -> Path:
    """Copy a results file to ``<baseline_dir>/<audit name>.json``, atomically.

    The file is validated first (JSON object, supported schema version, ``audit.name``) and
    then copied byte for byte, so the baseline is exactly the run it came from.

    Returns
    -------
    Path
        Where the baseline was written.

    Raises
    ------
    GateInputError
        When the results file is unusable or its audit name is not a safe file name.
    """
    source = Path(results_path)
    document = load_document(source)
    audit = document.get("audit")
    name = audit.get("name") if isinstance(audit, Mapping) else None
    if not isinstance(name, str) or _SAFE_AUDIT_NAME.fullmatch(name) is None or ".." in name:
        raise GateInputError(
            f"{source}: audit.name must be a plain file name (letters, digits, '_', '-', '.'), "
            f"found {name!r}"
        )
    target = Path(baseline_dir) / f"{name}.json"
    write_atomic(target, source.read_bytes())
    return target
