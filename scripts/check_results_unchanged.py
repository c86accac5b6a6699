"""Check that two runs of the same audits give identical results (timings and paths aside).

Used to prove that a refactoring changed no result: run the shipped audits before and after
it into two folders, then

    python scripts/check_results_unchanged.py BEFORE_DIR AFTER_DIR

Each folder holds one sub-folder per audit (``adult/``, ``digits/`` ...) with the run's
``results.json`` and ``predictions.parquet``. Every number must be equal to the last bit:
the pipeline is deterministic, so "close" would hide a change. What may differ is what
describes the run rather than its results: wall-clock times (any key with ``seconds`` in its
name), the timestamp, the git commit, the command line and the file paths it was given.
Exit status 0 when every audit matches, 1 otherwise (each difference printed, one a line).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

#: Paths (as tuples of keys, ``*`` for any list index) that describe the run, not its results.
VOLATILE = {
    ("environment", "timestamp"), ("environment", "git_sha"), ("audit", "command"),
    ("audit", "spec_file"), ("audit", "spec", "source"), ("twins", "*", "checkpoint"),
    ("twinaudit_version",),
}


def _volatile(path: tuple[str, ...]) -> bool:
    if path and "seconds" in path[-1]:
        return True
    return tuple("*" if part.startswith("[") else part for part in path) in VOLATILE


def differences(before: Any, after: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Every place where two JSON documents differ, as 'path: before != after' lines."""
    if _volatile(path):
        return []
    where = ".".join(path) or "<root>"
    if isinstance(before, dict) and isinstance(after, dict):
        found = [f"{where}: key {key!r} only in {'before' if key in before else 'after'}"
                 for key in sorted(set(before) ^ set(after)) if not _volatile((*path, key))]
        for key in before.keys() & after.keys():
            found += differences(before[key], after[key], (*path, key))
        return found
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{where}: {len(before)} items before, {len(after)} after"]
        found = []
        for index, (first, second) in enumerate(zip(before, after, strict=True)):
            found += differences(first, second, (*path, f"[{index}]"))
        return found
    same = before == after or (isinstance(before, float) and isinstance(after, float)
                               and math.isnan(before) and math.isnan(after))
    return [] if same else [f"{where}: {before!r} != {after!r}"]


def compare_run(before: Path, after: Path) -> list[str]:
    found = differences(json.loads((before / "results.json").read_text()),
                        json.loads((after / "results.json").read_text()))
    old = pd.read_parquet(before / "predictions.parquet")
    new = pd.read_parquet(after / "predictions.parquet")
    try:
        pd.testing.assert_frame_equal(old, new, check_exact=True)
    except AssertionError as error:
        found.append(f"predictions.parquet: {str(error).splitlines()[0]}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: check_results_unchanged.py BEFORE_DIR AFTER_DIR", file=sys.stderr)
        return 2
    before_root, after_root = (Path(arg) for arg in argv)
    audits = sorted(path.name for path in before_root.iterdir()
                    if (path / "results.json").is_file())
    if not audits:
        print(f"{before_root}: no run folders with a results.json", file=sys.stderr)
        return 2
    failed = False
    for audit in audits:
        if not (after_root / audit / "results.json").is_file():
            print(f"{audit}: no run in {after_root}")
            failed = True
            continue
        found = compare_run(before_root / audit, after_root / audit)
        print(f"{audit}: {'identical' if not found else f'{len(found)} differences'}")
        for line in found[:50]:
            print(f"  {line}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
