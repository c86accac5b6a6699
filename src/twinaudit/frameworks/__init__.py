"""The twins: one scikit-learn estimator per framework, over the same network spec.

The one seam that chooses an implementation: :func:`twin_class` looks a name up in the
registry (:data:`twinaudit.vocabulary.FRAMEWORK_CLASSES`) and imports that framework's twin
module only when asked, so that choosing torch never imports TensorFlow. Every framework
module exposes the same small interface (:class:`~twinaudit.frameworks.base.Twin`).

``keras[<backend>]`` is the Keras twin on that Keras backend. Keras fixes its backend once per
process, so on this process's backend it is the Keras twin itself, and on any other a
:class:`~twinaudit.frameworks.host.HostedTwin` whose primitives run in a child process on
that backend (:mod:`twinaudit.frameworks.host`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from twinaudit.errors import InputError
from twinaudit.frameworks.base import Twin, read_sidecar
from twinaudit.vocabulary import (
    FRAMEWORK_CLASSES,
    FRAMEWORKS,
    IMPLEMENTATIONS,
    KERAS_BACKENDS,
    UNSUPPORTED_KERAS_BACKENDS,
)

__all__ = ["FRAMEWORKS", "IMPLEMENTATIONS", "Twin", "check_installed", "environment",
           "keras_backend_of", "limited", "load_twin", "thread_limit", "twin_class"]

T = TypeVar("T")

_BACKEND_NAME = re.compile(r"keras\[(\w+)\]")
#: The classes made for ``keras[<backend>]`` names, one per name and process.
_made: dict[str, type[Twin]] = {}


def twin_class(framework: str) -> type[Twin]:
    """The twin class of an implementation (a name in :data:`IMPLEMENTATIONS`), importing its
    framework when it runs in this process."""
    if framework in FRAMEWORK_CLASSES:
        module_name, class_name = FRAMEWORK_CLASSES[framework].split(":")
        return getattr(importlib.import_module(module_name), class_name)
    if framework not in IMPLEMENTATIONS:
        raise ValueError(f"unknown framework {framework!r} "
                         f"(expected one of {', '.join(IMPLEMENTATIONS)})")
    if framework not in _made:
        _made[framework] = _keras_on(framework, str(keras_backend_of(framework)))
    return _made[framework]


def keras_backend_of(framework: str) -> str | None:
    """The Keras backend ``framework`` names (``keras[jax]`` → ``jax``), None for a plain
    framework name."""
    match = _BACKEND_NAME.fullmatch(framework)
    return match.group(1) if match else None


def _native_keras_backend() -> str:
    """The backend this process's Keras runs on, or will when first imported."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND") or "tensorflow"


def _keras_on(framework: str, backend: str) -> type[Twin]:
    """The class of ``keras[<backend>]``: the Keras twin under that name on this process's
    backend, else its hosted proxy (this process never imports Keras for it). Either
    rebuilds by name when unpickled, so a twin sent to another process becomes whichever of
    the two that process needs."""
    from twinaudit.frameworks.keras.backends import PACKAGES

    namespace = {"framework": framework, "packages": PACKAGES[backend],
                 "__reduce__": _reduce_by_name}
    if backend == _native_keras_backend():
        keras_twin = twin_class("keras")
        if keras_twin.environment()["keras_backend"] == backend:
            return type(f"KerasTwin[{backend}]", (keras_twin,),
                        {**namespace, "__module__": keras_twin.__module__})
    from twinaudit.frameworks.host import hosted_class

    return hosted_class(f"KerasTwin[{backend}]", FRAMEWORK_CLASSES["keras"],
                        {"KERAS_BACKEND": backend}, {**namespace, "checkpoint_suffix": ".keras"})


def _rebuilt(framework: str) -> Twin:
    cls = twin_class(framework)
    return cls.__new__(cls)


def _reduce_by_name(twin: Twin) -> tuple:
    return (_rebuilt, (twin.framework,), twin.__getstate__())


def check_installed(frameworks: Iterable[str], source: object) -> None:
    """Before any work: every listed Keras backend's package can be imported, else one line
    naming the audit file (``source``) and the extra that installs the package; plain
    ``keras`` needs this process's ``KERAS_BACKEND`` to be one the twin runs on."""
    frameworks, native = list(frameworks), _native_keras_backend()
    if "keras" in frameworks and native not in KERAS_BACKENDS:
        why = UNSUPPORTED_KERAS_BACKENDS.get(native, "not a Keras backend")
        raise InputError(f"KERAS_BACKEND={native}: {source} lists keras, and the Keras twin "
                         f"runs on {', '.join(KERAS_BACKENDS)} ({why})")
    for framework in frameworks:
        backend = keras_backend_of(framework)
        if backend is not None and importlib.util.find_spec(backend) is None:
            extra = KERAS_BACKENDS[backend]
            raise InputError(f"{source}: training.frameworks: {framework} needs the {backend} "
                             "package" + (f" (pip install 'twinaudit[{extra}]')" if extra
                                          else ""))


def load_twin(path: str | Path) -> Twin:
    """Load a twin saved with :meth:`Twin.save` (its ``.json`` sidecar names the framework)."""
    path = Path(path)
    framework = read_sidecar(path).get("framework")
    if framework not in IMPLEMENTATIONS:
        raise InputError(f"{path.with_suffix('.json')}: names no known framework "
                         f"({framework!r}; expected one of {', '.join(IMPLEMENTATIONS)})")
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
    """Each implementation's own part of results.json's environment block, merged; each Keras
    implementation's backend under ``keras_backends`` (``keras_backend``: the first's)."""
    merged: dict[str, Any] = {"settings": {}, "packages": []}
    for framework in frameworks:
        merged["packages"] += twin_class(framework).packages
        for key, value in twin_class(framework).environment().items():
            if key == "settings":
                merged["settings"].update(value)
            elif key == "keras_backend":
                merged.setdefault("keras_backend", value)
                merged.setdefault("keras_backends", {})[framework] = value
            elif value is not None:
                merged[key] = value
    return merged
