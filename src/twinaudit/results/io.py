"""Reading and writing results.json; every write is atomic.

Everything is written to a temporary file in the same folder, then renamed, so a crash never
leaves a half-written results file or report behind.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from twinaudit.errors import InputError
from twinaudit.outputs import check_folder_can_exist
from twinaudit.results.schema import RESULTS_KIND, SCHEMA_VERSION
from twinaudit.results.validate import validate_results

#: A results file larger than this is not one twinaudit wrote (the default audit's is ~2 MB).
MAX_RESULTS_BYTES = 256 * 1024 * 1024


def check_writable_target(path: Path) -> None:
    """Refuse a target that is a directory or a symbolic link, before anything is written.

    A rename over a link would replace the link, not write through it, but a planted link is
    never what the user meant: it is refused with a line naming it.
    """
    if path.is_symlink():
        raise InputError(f"{path}: is a symbolic link (twinaudit never writes through one)")
    if path.is_dir():
        raise InputError(f"{path}: is a directory (expected the path of a file to write)")
    check_folder_can_exist(path.parent)


def write_atomic(path: Path, content: bytes | str) -> Path:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    check_writable_target(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    return replace_atomically(path, lambda temporary: temporary.write_bytes(data))


def replace_atomically(path: Path, write: Callable[[Path], object], *,
                       suffix: str = ".tmp") -> Path:
    """Have ``write`` fill a new temporary file beside ``path``, then rename it over ``path``.

    The temporary name ends with ``suffix`` (a framework's saver may insist on its own, e.g.
    ``.keras``); it is removed whatever happens, so no half-written file is ever left.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.filename is None:
            # A failed write (a full disk) names no file; the error line must name the target.
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    except BaseException:
        temporary.unlink(missing_ok=True)
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
        One line naming the file, when it is missing or unreadable, is not a JSON object,
        carries another kind or schema version, or breaks the schema
        (:func:`twinaudit.results.schema.json_schema`): ``results.json: $.network.kind:
        expected a string, got null``.
    """
    source = Path(path)
    if source.is_dir():
        raise InputError(f"{source}: is a directory (expected a {role} file)")
    try:
        if source.stat().st_size > MAX_RESULTS_BYTES:
            raise InputError(f"{source}: the {role} file is larger than "
                             f"{MAX_RESULTS_BYTES // 2**20} MiB")
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{source}: {role} file not found") from None
    except RecursionError:
        raise InputError(f"{source}: the {role} file is nested too deeply to be a results "
                         "document") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: {role} file is not valid JSON (line {error.lineno}, "
                         f"column {error.colno})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{source}: cannot read {role} file: {error}") from None
    check_results(document, source=str(source))
    # Every field's type, before a report, comparison or gate reads one.
    validate_results(document, source=str(source))
    return document


def check_results(document: Any, *, source: str) -> None:
    """Raise :class:`InputError` unless ``document`` is a results document of this schema.

    A document without ``kind`` is taken as one (hand-written documents, e.g. gate tests).
    Only the kind and the version are checked here: the gate also calls this on documents
    built in memory, which may hold a single probe section. Documents read from a file get
    the typed check too (:func:`read_results`).
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
