"""Reading and writing results.json; every write is atomic.

Everything is written to a temporary file in the same folder, then renamed, so a crash never
leaves a half-written results file or report behind.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from twinaudit.errors import InputError
from twinaudit.results.schema import RESULTS_KIND, SCHEMA_VERSION


def write_atomic(path: Path, content: bytes | str) -> Path:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def to_json(results: dict) -> str:
    """Serialise results: numpy scalars become numbers, NaN and infinities become null."""
    return json.dumps(_plain(results), indent=2, allow_nan=False) + "\n"


def write_results(path: Path, results: dict) -> Path:
    return write_atomic(path, to_json(results))


def read_results(path: str | os.PathLike[str], *, role: str = "results") -> dict[str, Any]:
    """Read a results (or baseline) document: the one reader of results.json.

    Parameters
    ----------
    path : path-like
        The JSON file.
    role : str
        ``"results"`` or ``"baseline"``; used in error messages only.

    Raises
    ------
    InputError
        One line naming the file, when it is missing or unreadable, is not a JSON object, or
        carries another kind or schema version.
    """
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{source}: {role} file not found") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: {role} file is not valid JSON (line {error.lineno}, "
                         f"column {error.colno})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{source}: cannot read {role} file: {error}") from None
    check_results(document, source=str(source))
    return document


def check_results(document: Any, *, source: str) -> None:
    """Raise :class:`InputError` unless ``document`` is a results document of this schema.

    A document without ``kind`` is taken as one (hand-written documents, e.g. gate tests).
    """
    if not isinstance(document, dict):
        raise InputError(f"{source}: expected a JSON object at the top level")
    kind = document.get("kind", RESULTS_KIND)
    if kind != RESULTS_KIND:
        raise InputError(f"{source}: kind is {kind!r}, expected {RESULTS_KIND!r}")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(f"{source}: schema_version is {version!r}, this version reads "
                         f"schema_version {SCHEMA_VERSION}")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
