"""The twins: one scikit-learn-style classifier per framework, over the same network spec.

Each framework module exposes the same small interface (see :class:`~twinaudit.twins.base.Twin`)
and is imported only when asked for, so that choosing torch never imports TensorFlow.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from twinaudit.twins.base import Twin

__all__ = ["Twin", "twin_class", "load_twin"]

_MODULES = {"torch": ("twinaudit.twins.torch_twin", "TorchTwin"),
            "keras": ("twinaudit.twins.keras_twin", "KerasTwin")}


def twin_class(framework: str) -> type[Twin]:
    """The twin class of a framework ("torch" or "keras"), importing that framework."""
    if framework not in _MODULES:
        raise ValueError(f"unknown framework {framework!r} (expected one of {sorted(_MODULES)})")
    module_name, class_name = _MODULES[framework]
    return getattr(importlib.import_module(module_name), class_name)


def load_twin(path: str | Path) -> Twin:
    """Load a twin saved with :meth:`Twin.save` (its ``.json`` sidecar names the framework)."""
    path = Path(path)
    description = json.loads(path.with_suffix(".json").read_text())
    return twin_class(description["framework"]).load(path)
