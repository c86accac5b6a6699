"""Twins whose framework lives in another process: Keras on a backend this process is not on.

Keras 3 fixes its backend when it is first imported (``KERAS_BACKEND``), so one process holds
Keras on one backend only. To audit ``keras[jax]`` beside ``keras`` (TensorFlow) and
``torch`` in one run, a twin on a backend other than this process's is a
:class:`HostedTwin`: a proxy whose framework primitives (the abstract methods of
:class:`~twinaudit.frameworks.base.Twin`) run in a *host* — a child process started with that
backend, one per backend per process, on first use. Everything built on the primitives (the
shared ``fit`` loop, predictions, pickling, saving, the proof, attribution, DP-SGD) runs here
unchanged, so a hosted twin is audited by exactly the code that audits the others.

The host speaks pickle over its stdin and stdout: a request is ``(op, handle, name, args,
kwargs)``, a reply ``("ok", value)``, ``("handle", id)`` for a value that cannot travel (a
compiled gradient function: it stays in the host and is called through its id) or
``("error", exception)``. Requests are serialised by a lock, so threads of one process may
share a host; a process that forks (a Dask worker) starts its own.
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import os
import pickle
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, BinaryIO, ClassVar

import numpy as np

from twinaudit.frameworks.base import RawGradients, Twin


class HostError(RuntimeError):
    """The host process died or could not start; the message carries its last stderr."""


class Host:
    """One child process holding twins of one implementation's class (see the module doc)."""

    def __init__(self, environment: dict[str, str]):
        self.environment = environment
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "twinaudit.frameworks.host"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **environment})
        self._stderr: list[bytes] = []
        # Drained all along, so a chatty framework can never fill the pipe and stall the host.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr = (self._stderr + [line])[-20:]

    def new_id(self) -> int:
        return next(self._ids)

    def request(self, op: str, handle: int, name: str = "", *args: Any, **kwargs: Any) -> Any:
        """Run ``op`` in the host; return its value, or raise the exception it raised."""
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            try:
                pickle.dump((op, handle, name, args, kwargs), self._process.stdin,
                            protocol=pickle.HIGHEST_PROTOCOL)
                self._process.stdin.flush()
                status, value = pickle.load(self._process.stdout)
            except (BrokenPipeError, EOFError, pickle.UnpicklingError, OSError):
                self._process.wait(timeout=10)
                tail = b"".join(self._stderr).decode(errors="replace").strip()
                raise HostError(f"the {self.label} host process exited "
                                f"(code {self._process.returncode}): "
                                f"{tail.splitlines()[-1] if tail else 'no message'}") from None
        if status == "error":
            raise value
        if status == "handle":
            return HostedCallable(self, value)
        return value

    @property
    def label(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.environment.items())

    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # the host's loop ends at end of input
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


class HostedCallable:
    """A function that lives in a host (a twin's compiled input gradients), called by id."""

    def __init__(self, host: Host, handle: int):
        self.host, self.handle = host, handle
        weakref.finalize(self, _drop, host, handle)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.host.request("call_handle", self.handle, "", *args, **kwargs)


def _drop(host: Host, handle: int) -> None:
    if host.alive():
        try:
            host.request("drop", handle)
        except (HostError, OSError):
            pass


_hosts: dict[tuple[int, tuple[tuple[str, str], ...]], Host] = {}
_hosts_lock = threading.Lock()


def host_for(environment: dict[str, str]) -> Host:
    """This process's host for ``environment`` (started on first use; again after a fork or
    after the last one died)."""
    key = (os.getpid(), tuple(sorted(environment.items())))
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None or not host.alive():
            host = _hosts[key] = Host(environment)
        return host


@atexit.register
def _close_hosts() -> None:
    for (pid, _), host in list(_hosts.items()):
        if pid == os.getpid():
            host.close()


def _forwarded(name: str) -> Callable[..., Any]:
    """A twin method that runs on the twin's twin in the host."""

    def method(self: HostedTwin, *args: Any, **kwargs: Any) -> Any:
        return self._remote(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``{name}`` of the twin in the host process (see :class:`Twin`)."
    return method


class HostedTwin(Twin):
    """A twin whose framework runs in a host process; made per implementation by
    :func:`hosted_class`, which sets the class attributes below."""

    #: ``module:Class`` of the twin the host builds, and the host's environment.
    hosted: ClassVar[str]
    host_environment: ClassVar[dict[str, str]]
    #: Drops the host's twin (set by ``_build``; run again when the twin is rebuilt).
    _release: weakref.finalize | None = None

    def _build(self, weights: dict[str, np.ndarray]) -> None:
        if self._release is not None:
            self._release()  # a rebuilt twin lets go of the host's previous one
        host = host_for(self.host_environment)
        handle = host.new_id()
        host.request("build", handle, self.hosted, network=self.network,
                     schedule=self.schedule, random_state=self.random_state,
                     precision=self.precision, weights=weights)
        self._host, self._handle = host, handle
        # The host's twin goes when this one does (or when the host ends).
        self._release = weakref.finalize(self, _drop, host, handle)

    def _remote(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._host.request("call", self._handle, name, *args, **kwargs)

    train_step = _forwarded("train_step")
    _loss_gradients = _forwarded("_loss_gradients")
    loss_gradients_and_output = _forwarded("loss_gradients_and_output")
    output_gradients = _forwarded("output_gradients")
    clipped_gradient_sum = _forwarded("clipped_gradient_sum")
    apply_gradients = _forwarded("apply_gradients")
    forward = _forwarded("forward")
    get_weights = _forwarded("get_weights")
    set_weights = _forwarded("set_weights")
    _save_weights = _forwarded("_save_weights")
    _load_weights = _forwarded("_load_weights")

    def raw_gradients(self, row_shape: tuple[int, ...], *, per_class: bool,
                      from_embeddings: bool) -> RawGradients:
        return self._remote("raw_gradients", row_shape, per_class=per_class,
                            from_embeddings=from_embeddings)

    @classmethod
    def environment(cls) -> dict[str, Any]:
        return host_for(cls.host_environment).request("class_call", 0, "environment",
                                                      cls.hosted)


def hosted_class(name: str, hosted: str, environment: dict[str, str],
                 namespace: dict[str, Any]) -> type[HostedTwin]:
    """A proxy class: twins of ``hosted`` (``module:Class``) in a host with ``environment``;
    ``namespace`` sets its framework name, checkpoint suffix and packages."""
    return type(f"Hosted{name}", (HostedTwin,), {
        **namespace, "hosted": hosted, "host_environment": dict(environment),
        "__module__": __name__})


# -- the host's side ---------------------------------------------------------------------------

def _load_class(path: str) -> type:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def serve(inbox: BinaryIO, outbox: BinaryIO) -> None:
    """Answer requests until the input ends (the parent closed it, or died)."""
    objects: dict[int, Any] = {}
    # The host numbers what it keeps downwards, the parent numbers its twins upwards.
    kept = itertools.count(-1, -1)
    while True:
        try:
            op, handle, name, args, kwargs = pickle.load(inbox)
        except EOFError:
            return
        try:
            if op == "drop":
                objects.pop(handle, None)
                value = None
            elif op == "build":
                twin = _load_class(name)(network=kwargs["network"], schedule=kwargs["schedule"],
                                         random_state=kwargs["random_state"],
                                         precision=kwargs["precision"])
                objects[handle] = twin.initialize(kwargs["weights"])
                value = None
            elif op == "class_call":
                value = getattr(_load_class(args[0]), name)()
            else:
                target = objects[handle] if op == "call_handle" else \
                    getattr(objects[handle], name)
                value = target(*args, **kwargs)
            reply: tuple[str, Any] = ("ok", value)
            if callable(value):
                objects[number := next(kept)] = value
                reply = ("handle", number)
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - every failure goes back to the caller
            try:
                payload = pickle.dumps(("error", error), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                payload = pickle.dumps(("error", RuntimeError(f"{type(error).__name__}: "
                                                              f"{error}")))
        outbox.write(payload)
        outbox.flush()


def main() -> None:
    # The replies own file descriptor 1; anything a framework prints goes to stderr instead.
    outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, outbox)


if __name__ == "__main__":
    main()


__all__ = ["Host", "HostError", "HostedTwin", "host_for", "hosted_class"]
