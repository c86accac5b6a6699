"""The data section: splits, group counts per split, provenance, caveats and input warnings."""

from __future__ import annotations

from collections.abc import Mapping

from twinaudit.report.views._common import get


def data_section(results: dict) -> dict | None:
    data = results.get("data")
    if not isinstance(data, Mapping):
        return None
    rows = data.get("rows") or {}
    splits = [{"split": name, "rows": count, "positive_rate": get(data, "positive_rate", name)}
              for name, count in rows.items()]
    groups = []
    for feature, by_split in (data.get("groups") or {}).items():
        names = sorted({g for split in by_split.values() for g in split})
        groups.append({"feature": feature, "splits": list(by_split), "rows": [
            {"group": name, "by_split": {split: by_split[split].get(name) or {}
                                         for split in by_split}} for name in names]})
    caveats = data.get("caveat")
    return {"data": data, "splits": splits, "groups": groups,
            "caveats": [caveats] if isinstance(caveats, str) else list(caveats or []),
            "warnings": input_warnings(data.get("warnings")),
            "sha256": data.get("sha256") if isinstance(data.get("sha256"), Mapping) else {}}


#: How each kind of input warning (twinaudit.data.profile) is headed in the report.
WARNING_KINDS = {"id_like": "ID-like column", "many_levels": "Many levels",
                 "leak": "Possible leak"}


def input_warnings(warnings: object) -> list[dict]:
    """The profiling warnings of the training split (``{kind, column, message}`` each), as the
    report lists them; absent, empty or malformed entries give nothing."""
    if not isinstance(warnings, list):
        return []
    rows = []
    for warning in warnings:
        if not isinstance(warning, Mapping) or not warning.get("message"):
            continue
        kind = str(warning.get("kind") or "")
        rows.append({"kind": kind,
                     "heading": WARNING_KINDS.get(kind, kind.replace("_", " ").capitalize()
                                                  or "Warning"),
                     "column": str(warning.get("column") or ""),
                     "message": str(warning["message"])})
    return rows
