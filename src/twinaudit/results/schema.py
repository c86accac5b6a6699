"""The results.json schema: its version, its kind, and its top-level sections.

docs/results-schema.md describes every section; a test checks that it documents exactly the
sections listed here, and that a real run writes no section that is not listed. Bump
SCHEMA_VERSION on any change that moves or re-means a field.
"""

from __future__ import annotations

from typing import Any

from twinaudit.vocabulary import JSON_SCHEMA_DRAFT

SCHEMA_VERSION = 1
RESULTS_KIND = "twinaudit.results"

#: Every top-level key of schema 1, with whether every run writes it and what it holds. The
#: optional sections are written by the audits the spec enables (and ``benchmarks`` by
#: ``twinaudit bench``).
SECTION_TABLE: dict[str, tuple[bool, str]] = {
    "schema_version": (True, "the schema's version"),
    "kind": (True, "always 'twinaudit.results'"),
    "twinaudit_version": (True, "the package version that wrote the file"),
    "audit": (True, "the audit's name, description, spec file, spec and command"),
    "environment": (True, "versions, hardware, seeds, frameworks, settings, git SHA, time"),
    "data": (True, "data set summary: rows, label balance, features, groups"),
    "network": (True, "the network's kind, settings and parameter count"),
    "training": (True, "the schedule both twins were trained with"),
    "twins": (True, "one summary per (framework, seed) twin"),
    "parity": (False, "the identical-settings proof (both frameworks trained)"),
    "fairness": (False, "group metrics and disparities per twin, summary across seeds"),
    "mitigation": (False, "reweighing and ThresholdOptimizer, before and after"),
    "anomaly": (False, "autoencoder flag thresholds per twin"),
    "counterfactual": (False, "the text twins' counterfactual identity test"),
    "attribution": (False, "attributions, twin agreement, the fairness link"),
    "benchmarks": (False, "speed and accuracy rows written by twinaudit bench"),
    "outputs": (True, "the file names of the predictions and the report"),
    "run_seconds": (True, "wall time of the run"),
}
SECTIONS: tuple[str, ...] = tuple(SECTION_TABLE)
REQUIRED_SECTIONS: tuple[str, ...] = tuple(name for name, (required, _) in SECTION_TABLE.items()
                                           if required)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of results.json's top level (docs/results-schema.md has the inside)."""
    properties: dict[str, Any] = {name: {"description": description}
                                  for name, (_, description) in SECTION_TABLE.items()}
    properties["schema_version"]["const"] = SCHEMA_VERSION
    properties["kind"]["const"] = RESULTS_KIND
    return {"$schema": JSON_SCHEMA_DRAFT, "title": f"twinaudit results (schema {SCHEMA_VERSION})",
            "type": "object", "properties": properties,
            "required": [name for name, (required, _) in SECTION_TABLE.items() if required],
            "additionalProperties": False}
