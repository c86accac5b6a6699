"""Promoting a run's results file to the committed baseline."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from twinaudit.gate.errors import GateInputError
from twinaudit.gate.evaluation import load_document
from twinaudit.results import write_atomic
from twinaudit.vocabulary import is_safe_audit_name


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
    if not is_safe_audit_name(name):
        raise GateInputError(
            f"{source}: audit.name must be a plain file name (letters, digits, '_', '-', '.'), "
            f"found {name!r}"
        )
    target = Path(baseline_dir) / f"{name}.json"
    write_atomic(target, source.read_bytes())
    return target
