"""The environment block of results.json: what a reader needs to reproduce or distrust a run."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

#: The packages every run depends on; each framework adds its own (``Twin.packages``).
_PACKAGES = ("twinaudit", "numpy", "pandas", "scikit-learn", "fairlearn", "captum", "shap",
             "jinja2")


def environment(*, seeds: list[int], frameworks: list[str],
                framework_settings: dict | None = None,
                audit_folder: Path | None = None) -> dict:
    """What a reader needs to reproduce or distrust a run: versions, hardware, settings.

    ``git_sha`` is the commit of twinaudit's own code (None when it is installed from a
    package rather than run from a checkout: its version names it then), whatever folder the
    run started in; ``audit_git_sha`` that of the repository holding the audit definition.
    """
    versions = {package: _version(package) for package in _PACKAGES}
    environment_block: dict[str, Any] = {
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
        "git_sha": _git_sha(Path(__file__).resolve().parent),
        "audit_git_sha": _git_sha(audit_folder) if audit_folder is not None else None,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # Each framework records its own part (backend, threads, accelerator): the caller asks them
    # (twinaudit.frameworks.environment), so this module needs no framework.
    own = dict(framework_settings or {})
    environment_block["settings"].update(own.pop("settings", {}))
    versions.update({package: _version(package) for package in own.pop("packages", ())})
    environment_block.update(own)
    return environment_block


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_sha(folder: Path) -> str | None:
    """The HEAD commit of the git repository holding ``folder``, or None outside one."""
    try:
        completed = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                                   capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None
