"""The data section: splits, group counts per split, provenance and caveats."""

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
            "sha256": data.get("sha256") if isinstance(data.get("sha256"), Mapping) else {}}
