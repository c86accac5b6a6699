"""The JSON Schema of an audit definition, printed by ``twinaudit schema audit``.

An editor can then complete and check audit TOML files (e.g. through a ``#:schema`` comment on
the first line, as taplo and Even Better TOML read it). (``twinaudit schema results`` prints
:func:`twinaudit.results.schema.json_schema`, for consumers of results.json.)

The audit schema is derived from the section dataclasses (their fields, types and defaults;
their ``#:`` comments as descriptions) and the vocabulary (the allowed names), so it cannot
drift from what :func:`twinaudit.spec.load_spec` accepts. Value ranges that the loader checks
(a fraction in (0, 1) ...) are left to the loader's one-line errors.
"""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path
from typing import Any

from twinaudit import vocabulary
from twinaudit.spec.sections import SECTIONS
from twinaudit.vocabulary import JSON_SCHEMA_DRAFT as _DRAFT

#: Keys whose values (or list items) are names from the vocabulary.
_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("data", "dataset"): vocabulary.DATASETS,
    ("network", "kind"): vocabulary.NETWORKS,
    ("network", "activation"): vocabulary.ACTIVATIONS,
    ("training", "frameworks"): vocabulary.IMPLEMENTATIONS,
    ("attribution", "methods"): vocabulary.ATTRIBUTION_METHODS,
    ("attribution", "integration_method"): vocabulary.QUADRATURES,
    ("attribution", "baselines"): vocabulary.ATTRIBUTION_BASELINES,
    ("mitigation", "constraints"): vocabulary.CONSTRAINTS,
    ("mitigation", "methods"): vocabulary.MITIGATIONS,
    ("fairness", "rate_interval"): vocabulary.RATE_INTERVALS,
    ("fairness", "multiplicity"): vocabulary.MULTIPLICITY,
}
_SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string"}
#: Keys whose values have a shape of their own (a list of small tables).
_SHAPES: dict[tuple[str, str], dict[str, Any]] = {
    ("data", "filters"): {"type": "array", "items": {
        "type": "object", "required": list(vocabulary.FILTER_KEYS),
        "additionalProperties": False,
        "properties": {"column": {"type": "string"}, "op": {"enum": list(vocabulary.FILTER_OPS)},
                       "value": {"type": ["string", "number", "boolean", "array"]}}}},
    ("data", "bins"): {"type": "object", "additionalProperties": {
        "oneOf": [{"type": "integer", "minimum": 2, "maximum": 100},
                  {"type": "array", "items": {"type": "number"}, "minItems": 1}]}},
}


def audit_schema() -> dict[str, Any]:
    """The JSON Schema of an audit definition (its TOML read as a JSON object)."""
    comments = _field_comments()
    properties = {name: _section(name, cls, comments) for name, cls in SECTIONS.items()}
    properties["gate"] = {"type": "object",
                          "description": "The audit's own gate rules: [[gate.rule]] tables "
                                         "(docs/gate.md)."}
    return {"$schema": _DRAFT, "title": "twinaudit audit definition", "type": "object",
            "properties": properties, "required": ["audit", "data"],
            "additionalProperties": False}


def _section(name: str, cls: type, comments: dict[tuple[str, str], str]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties, required = {}, []
    for field in dataclasses.fields(cls):
        schema = dict(_SHAPES[(name, field.name)]) if (name, field.name) in _SHAPES \
            else _type(hints[field.name], _NAMES.get((name, field.name)))
        if field.default is not dataclasses.MISSING:
            schema["default"] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            schema["default"] = field.default_factory()
        else:
            required.append(field.name)
        description = comments.get((cls.__name__, field.name))
        if description:
            schema["description"] = description
        properties[field.name] = schema
    section: dict[str, Any] = {"type": "object", "description": (cls.__doc__ or "").strip(),
                               "properties": properties, "additionalProperties": False}
    if required:
        section["required"] = required
    return section


def _type(expected: Any, names: tuple[str, ...] | None) -> dict[str, Any]:
    origin = typing.get_origin(expected)
    if origin is list:
        (item,) = typing.get_args(expected)
        return {"type": "array", "items": _type(item, names)}
    if origin is dict:
        _, value = typing.get_args(expected)
        return {"type": "object", "additionalProperties": _type(value, None)}
    schema: dict[str, Any] = {"type": _SCALARS[expected]}
    if names is not None:
        schema["enum"] = list(names)
    return schema


def _field_comments() -> dict[tuple[str, str], str]:
    """``(class, field) -> text`` of the ``#:`` comment lines right above each field."""
    source = Path(__file__).with_name("sections.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    found: dict[tuple[str, str], str] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if not (isinstance(statement, ast.AnnAssign)
                    and isinstance(statement.target, ast.Name)):
                continue
            above: list[str] = []
            index = statement.lineno - 2
            while index >= 0 and lines[index].strip().startswith("#:"):
                above.insert(0, lines[index].strip()[2:].strip())
                index -= 1
            if above:
                found[(node.name, statement.target.id)] = " ".join(above)
    return found
