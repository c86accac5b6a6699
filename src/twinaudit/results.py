"""results.json: the single, versioned source that reports, comparisons and gates read.

The schema is documented in docs/results-schema.md; bump SCHEMA_VERSION on any change that
moves or re-means a field. Everything is written atomically — to a temporary file in the same
folder, then renamed — so a crash never leaves a half-written results file or report behind.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA_VERSION = 1
RESULTS_KIND = "twinaudit.results"
#: The top-level keys of schema 1 (docs/results-schema.md); optional sections may be absent.
SECTIONS = ("schema_version", "kind", "twinaudit_version", "audit", "environment", "data",
            "network", "training", "twins", "parity", "fairness", "mitigation", "attribution",
            "benchmarks", "outputs", "run_seconds")
_PACKAGES = ("twinaudit", "numpy", "pandas", "scikit-learn", "torch", "tensorflow-cpu", "keras",
             "fairlearn", "captum", "shap", "jinja2")


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


def read_results(path: Path) -> dict:
    """Read a results file, checking it is one and of a schema this version understands."""
    from twinaudit.errors import TwinauditError

    path = Path(path)
    try:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TwinauditError(f"{path}: results file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise TwinauditError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(results, dict) or results.get("kind") != RESULTS_KIND:
        raise TwinauditError(f"{path}: not a twinaudit results file (expected kind "
                             f"'{RESULTS_KIND}')")
    if results.get("schema_version") != SCHEMA_VERSION:
        raise TwinauditError(f"{path}: schema_version {results.get('schema_version')!r} is not "
                             f"supported (expected {SCHEMA_VERSION})")
    return results


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


def environment(*, seeds: list[int], frameworks: list[str]) -> dict:
    """What a reader needs to reproduce or distrust a run: versions, hardware, settings."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    environment_block = {
        "python": platform.python_version(),
        "packages": versions,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "device": "cpu",
        "seeds": list(seeds),
        "frameworks": list(frameworks),
        "keras_backend": None,
        "settings": {
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
            "keras_jit_compile": False,
            "precision": "float32",
        },
        "git_sha": _git_sha(),
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if "keras" in frameworks:
        import keras

        environment_block["keras_backend"] = keras.backend.backend()
    if "torch" in frameworks:
        import torch

        environment_block["settings"]["torch_default_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            environment_block["device"] = torch.cuda.get_device_name(0)
    return environment_block


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_sha() -> str | None:
    try:
        completed = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                   timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None
