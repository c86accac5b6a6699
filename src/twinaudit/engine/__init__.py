"""Where a run's units of work execute: in this process, or as tasks on a Dask cluster.

A run is a graph of tasks — training one twin, parity figures of a pair of twin sets, one
attribution method on one twin — submitted as soon as what they need exists and collected
where their results are needed. The :class:`Engine` is the one seam for that: the pipeline
submits plain functions with picklable arguments and gets back a ``collect()`` callable;
which engine runs them changes *when and where* they run, never what they compute (every
task is seeded by its arguments alone, so the results are bit-identical across engines and
worker counts: ``tests/engine``).

- :class:`InProcess` (``--workers 0``) runs each task when it is collected: the sequential
  reference, for debugging and for the tests' fast loop.
- :class:`~twinaudit.engine.cluster.DaskEngine` runs tasks on dask.distributed: a
  ``LocalCluster`` of single-threaded worker processes started inside the run by default, or
  any existing cluster by its scheduler address (``--scheduler tcp://host:port``).

The choice comes from :func:`execution`: the command line over ``$TWINAUDIT_WORKERS`` over the
audit's ``[execution]`` table.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from twinaudit.errors import InputError

T = TypeVar("T")
#: A submitted task's result, computed (or waited for) when called; calling it twice is cheap.
Collect = Callable[[], T]

#: ``workers`` from the environment, over the audit's ``[execution] workers``.
WORKERS_VARIABLE = "TWINAUDIT_WORKERS"


@dataclass(frozen=True)
class Execution:
    """How a run executes: ``workers`` local worker processes (0: in this process), or the
    cluster at ``scheduler``."""

    workers: int
    scheduler: str = ""

    @property
    def kind(self) -> str:
        if self.scheduler:
            return "cluster"
        return "local_cluster" if self.workers > 0 else "in_process"


#: Below this many cores the default runs in-process (see :func:`default_workers`).
MIN_CORES_FOR_WORKERS = 3


def default_workers() -> int:
    """One single-threaded worker per core, from three cores up; in-process (0) below.

    Measured on a 2-core machine (docs/scaling.md): the in-process run already keeps both
    cores busy (TensorFlow's intra-op pool), and each worker process pays the imports of its
    own (torch, TensorFlow, shap's first compilation: about 8 s of CPU), so the default Adult
    audit took 45 s on two workers against 38 s in-process. Asking for workers (``--workers
    2``) still gets them.
    """
    cores = os.cpu_count() or 1
    return cores if cores >= MIN_CORES_FOR_WORKERS else 0


def execution(workers: int | None, scheduler: str | None, *, spec_workers: int,
              spec_scheduler: str, where: str = "[execution]") -> Execution:
    """Resolve the run's execution: the command line, then ``$TWINAUDIT_WORKERS``, then the
    audit's ``[execution]`` (``workers = -1`` there means :func:`default_workers`).

    A worker count given on the command line or in the environment asks for a local run: it
    overrides a scheduler named in the audit (a scheduler named on the command line wins over
    both).
    """
    if scheduler:
        return Execution(0, scheduler)
    if workers is None:
        text = os.environ.get(WORKERS_VARIABLE, "").strip()
        if text:
            try:
                workers = int(text)
            except ValueError:
                raise InputError(f"${WORKERS_VARIABLE}: expected a whole number of workers "
                                 f"(0 runs in-process), got {text!r}") from None
            where = f"${WORKERS_VARIABLE}"
    if workers is None:
        if spec_scheduler:
            return Execution(0, spec_scheduler)
        workers = spec_workers
    if workers < 0:
        if workers != -1:
            raise InputError(f"{where}: workers must be 0 or more (-1: one per core), "
                             f"got {workers}")
        workers = default_workers()
    return Execution(workers)


class Progress(Protocol):
    """Hears of each task as it is submitted and as it finishes, by stage ("training" ...)."""

    def add(self, stage: str) -> None: ...

    def advance(self, stage: str) -> None: ...

    def note(self, text: str) -> None:
        """A line for the person watching (a cluster's dashboard address)."""


class Engine(ABC):
    """Runs a run's tasks. Arguments and results must pickle (twins do, as plain data)."""

    progress: Progress | None = None

    def submit(self, stage: str, function: Callable[..., T], *args: Any,
               **kwargs: Any) -> Collect[T]:
        """Schedule ``function(*args, **kwargs)``, a task of ``stage``; the returned callable
        gives its result (and re-raises its error)."""
        if self.progress is not None:
            self.progress.add(stage)
        return self._submit(stage, function, *args, **kwargs)

    @abstractmethod
    def _submit(self, stage: str, function: Callable[..., T], *args: Any,
                **kwargs: Any) -> Collect[T]: ...

    def _finished(self, stage: str) -> None:
        if self.progress is not None:
            self.progress.advance(stage)

    def share(self, value: T) -> T:
        """``value`` as tasks should receive it: sent to the workers once, not per task."""
        return value

    def compute(self, graph: Any) -> Any:
        """The value of a dask graph (a ``dask.delayed`` object): here with dask's threaded
        scheduler (still this process), on a cluster by its workers."""
        import dask

        return dask.compute(graph, scheduler="threads")[0]

    def describe(self) -> dict[str, Any]:
        """What results.json records under ``execution``."""
        return {"kind": "in_process", "workers": 0}

    def close(self) -> None:  # noqa: B027 - a hook: only some engines hold resources
        """Release the engine's resources (a local cluster stops here)."""


class InProcess(Engine):
    """Every task runs in this process when it is first collected (nothing runs ahead)."""

    def _submit(self, stage: str, function: Callable[..., T], *args: Any,
                **kwargs: Any) -> Collect[T]:
        result: list[T] = []

        def collect() -> T:
            if not result:
                result.append(function(*args, **kwargs))
                self._finished(stage)
            return result[0]

        return collect


@contextmanager
def open_engine(run: Execution, progress: Progress | None = None) -> Iterator[Engine]:
    """The engine for ``run`` (telling ``progress`` of its tasks), closed (its local cluster
    stopped) on the way out."""
    if run.kind == "in_process":
        engine: Engine = InProcess()
        engine.progress = progress
    else:
        from twinaudit.engine.cluster import DaskEngine

        engine = DaskEngine(run, progress)
    try:
        yield engine
    finally:
        engine.close()
