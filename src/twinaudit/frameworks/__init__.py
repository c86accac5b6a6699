"""The twins: one scikit-learn estimator per framework, over the same network spec.

The one seam that chooses a framework: :func:`twin_class` looks a name up in the registry
(:data:`twinaudit.vocabulary.FRAMEWORK_CLASSES`) and imports that framework's twin module only
when asked, so that choosing torch never imports TensorFlow. Every framework module exposes
the same small interface (:class:`~twinaudit.frameworks.base.Twin`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from twinaudit.errors import InputError
from twinaudit.frameworks.base import Twin, read_sidecar
from twinaudit.vocabulary import FRAMEWORK_CLASSES, FRAMEWORKS

__all__ = ["FRAMEWORKS", "Twin", "environment", "limited", "load_twin", "thread_limit",
           "twin_class"]

T = TypeVar("T")


def twin_class(framework: str) -> type[Twin]:
    """The twin class of a framework (a name in the registry), importing that framework."""
    if framework not in FRAMEWORK_CLASSES:
        raise ValueError(f"unknown framework {framework!r} "
                         f"(expected one of {sorted(FRAMEWORK_CLASSES)})")
    module_name, class_name = FRAMEWORK_CLASSES[framework].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def load_twin(path: str | Path) -> Twin:
    """Load a twin saved with :meth:`Twin.save` (its ``.json`` sidecar names the framework)."""
    path = Path(path)
    framework = read_sidecar(path).get("framework")
    if framework not in FRAMEWORK_CLASSES:
        raise InputError(f"{path.with_suffix('.json')}: names no known framework "
                         f"({framework!r}; expected one of {', '.join(FRAMEWORK_CLASSES)})")
    return twin_class(framework).load(path)


@contextmanager
def thread_limit(frameworks: Iterable[str], threads: int) -> Iterator[None]:
    """Run a block with each framework's intra-op threads limited (see ``Twin.thread_limit``)."""
    with ExitStack() as stack:
        for framework in frameworks:
            stack.enter_context(twin_class(framework).thread_limit(threads))
        yield


def limited(frameworks: tuple[str, ...], threads: int, function: Callable[..., T],
            *args: Any) -> T:
    """``function(*args)`` under :func:`thread_limit`: how a task that runs a framework is
    submitted to the engine, so the limit holds in whichever process runs it."""
    with thread_limit(frameworks, threads):
        return function(*args)


def environment(frameworks: Iterable[str]) -> dict[str, Any]:
    """Each framework's own part of results.json's environment block, merged."""
    merged: dict[str, Any] = {"settings": {}, "packages": []}
    for framework in frameworks:
        merged["packages"] += twin_class(framework).packages
        for key, value in twin_class(framework).environment().items():
            if key == "settings":
                merged["settings"].update(value)
            elif value is not None:
                merged[key] = value
    return merged
