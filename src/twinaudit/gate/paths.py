"""Rule paths: parse ``benchmarks.rows[name=train_epoch].ratio`` and resolve it in a document.

See ``docs/gate.md`` ("Paths") for the syntax.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


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


# How a value is written in messages and outputs (used by every module that reports one).
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
