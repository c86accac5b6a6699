"""A small validator for the subset of JSON Schema that :mod:`twinaudit.results.schema` uses.

The readers of results.json (report, compare, gate) must never meet a wrong-typed field, and
the ``jsonschema`` package is a test dependency only, so the one reader carries this
validator. It answers with the *first* problem as one line naming its JSON path::

    $.network.kind: expected a string, got null

Supported keywords: ``type`` (a name or a list of names, ``null`` included), ``properties``,
``required``, ``additionalProperties`` (a boolean or a schema), ``items``, ``minItems``,
``maxItems``, ``enum``, ``const`` and ``minimum``; annotations (``title``, ``description``,
``$schema``) are ignored. Their meaning is Draft 2020-12's, so ``jsonschema`` gives the same
answer (the tests check that on real and on mutated documents): ``integer`` accepts ``2.0``,
a boolean is never a number, and ``properties``, ``required`` and ``items`` apply only to a
value of their own type.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from twinaudit.errors import InputError
from twinaudit.results.schema import json_schema

#: What the validator understands; anything else in a schema is a bug in the schema.
KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items",
                      "minItems", "maxItems", "enum", "const", "minimum", "title",
                      "description", "$schema"})

#: A key written as ``.key`` in a path: printable, without dots, brackets, quotes or spaces.
#: Any other key is written ``["key"]``, JSON-escaped to ASCII, so that a path stays one line
#: whatever a group name from the user's data holds.
_PLAIN_KEY = re.compile(r"[^\s.\[\]\"'\\]+")

_ARTICLES = {"null": "null", "boolean": "a boolean", "integer": "an integer",
             "number": "a number", "string": "a string", "array": "an array",
             "object": "an object"}


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value (a Python int is ``integer``, a float ``number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def has_type(value: Any, name: str) -> bool:
    """Whether ``value`` is of JSON Schema type ``name`` (Draft 2020-12 semantics)."""
    actual = json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        # A float with no fractional part is an integer to JSON Schema (2.0 == 2).
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == name


def child_path(path: str, key: str | int) -> str:
    """``$.a.b`` for a key, ``$.a[3]`` for a list index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.fullmatch(key) and key.isprintable():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def first_error(instance: Any, schema: Mapping[str, Any], path: str = "$") -> str | None:
    """The first way ``instance`` breaks ``schema``, as ``"<path>: <what>"``; None if valid.

    Parameters
    ----------
    instance : object
        Parsed JSON.
    schema : mapping
        A schema using only :data:`KEYWORDS`.
    path : str
        The JSON path of ``instance`` in its document (``$`` for the whole document).
    """
    unknown = set(schema) - KEYWORDS
    if unknown:
        raise ValueError(f"schema keyword(s) this validator does not implement: "
                         f"{', '.join(sorted(unknown))}")
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(has_type(instance, name) for name in names):
            return f"{path}: expected {_either(names)}, got {_article(json_type(instance))}"
    if "const" in schema and not _equal(instance, schema["const"]):
        return f"{path}: expected {_literal(schema['const'])}, got {_literal(instance)}"
    if "enum" in schema and not any(_equal(instance, option) for option in schema["enum"]):
        options = ", ".join(_literal(option) for option in schema["enum"])
        return f"{path}: expected one of {options}, got {_literal(instance)}"
    if "minimum" in schema and json_type(instance) in ("integer", "number") \
            and instance < schema["minimum"]:
        return f"{path}: expected at least {schema['minimum']}, got {instance}"
    if isinstance(instance, Mapping):
        return _object_error(instance, schema, path)
    if isinstance(instance, list):
        return _array_error(instance, schema, path)
    return None


def _object_error(instance: Mapping[str, Any], schema: Mapping[str, Any],
                  path: str) -> str | None:
    for key in schema.get("required", ()):
        if key not in instance:
            return f"{child_path(path, key)}: required, but missing"
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in instance.items():
        if key in properties:
            error = first_error(value, properties[key], child_path(path, key))
        elif extra is False:
            error = f"{child_path(path, key)}: unknown key"
        elif isinstance(extra, Mapping):
            error = first_error(value, extra, child_path(path, key))
        else:
            error = None
        if error is not None:
            return error
    return None


def _array_error(instance: list, schema: Mapping[str, Any], path: str) -> str | None:
    if "minItems" in schema and len(instance) < schema["minItems"]:
        return f"{path}: expected at least {schema['minItems']} items, got {len(instance)}"
    if "maxItems" in schema and len(instance) > schema["maxItems"]:
        return f"{path}: expected at most {schema['maxItems']} items, got {len(instance)}"
    if "items" in schema:
        for index, item in enumerate(instance):
            error = first_error(item, schema["items"], child_path(path, index))
            if error is not None:
                return error
    return None


def _article(name: str) -> str:
    return _ARTICLES.get(name, name)


def _either(names: list[str]) -> str:
    """``a string``, ``a number or null``, ``an array, an object or null``."""
    words = [_article(name) for name in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _literal(value: Any) -> str:
    """A short JSON rendering of a value for a message (never more than one line)."""
    if isinstance(value, Mapping | list):
        return _article(json_type(value))
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _equal(value: Any, expected: Any) -> bool:
    """JSON equality of scalars (what ``enum`` and ``const`` hold here): ``true`` is not
    ``1``, but ``1`` is ``1.0``, as in JSON Schema."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return bool(value == expected)


def too_deep(instance: Any, limit: int) -> str | None:
    """The path of the first value nested more than ``limit`` levels deep, or None.

    Iterative, so it can measure any document ``json.loads`` returns; the readers walk
    documents recursively, and a bound checked first keeps them within Python's stack.
    """
    stack: list[tuple[Any, str, int]] = [(instance, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > limit:
            return path
        if isinstance(node, Mapping):
            stack.extend((value, child_path(path, key), depth + 1)
                         for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, child_path(path, index), depth + 1)
                         for index, value in enumerate(node))
    return None


#: A results document twinaudit writes is about 15 levels deep. The readers walk documents
#: recursively (the report finds fairness audits by shape, prints the spec as JSON), so a
#: deeper one is refused before any of them runs, well within Python's recursion limit.
MAX_DEPTH = 64


def validate_results(document: Any, *, source: str) -> None:
    """Raise :class:`~twinaudit.errors.InputError` unless ``document`` matches the schema.

    The message is one line: ``<source>: <JSON path>: <what was expected>, got <what>``, for
    the first problem found (a document nested deeper than :data:`MAX_DEPTH` included).
    """
    deep = too_deep(document, MAX_DEPTH)
    if deep is not None:
        raise InputError(f"{source}: {deep}: nested more than {MAX_DEPTH} levels deep (a "
                         "results document is not)")
    error = first_error(document, _schema())
    if error is not None:
        raise InputError(f"{source}: {error}")


@functools.cache
def _schema() -> dict[str, Any]:
    # Built once per process; the validator only reads it.
    return json_schema()
