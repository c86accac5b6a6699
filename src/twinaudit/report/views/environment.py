"""Environment and reproducibility: the command, machine, packages and the spec as run."""

from __future__ import annotations

import json

from twinaudit.report.tree import flatten
from twinaudit.report.views._common import get


def environment_section(results: dict) -> dict:
    environment = results.get("environment") or {}
    spec = get(results, "audit", "spec")
    return {"environment": environment,
            "packages": environment.get("packages") or {},
            "settings": flatten(environment.get("settings") or {}),
            "command": get(results, "audit", "command"),
            "spec": json.dumps(spec, indent=2, sort_keys=False) if spec else None}
