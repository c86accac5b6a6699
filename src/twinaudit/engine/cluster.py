"""The Dask engine: a run's tasks on dask.distributed workers.

By default a ``LocalCluster`` of ``workers`` processes with one thread each starts inside the
run, at its first task (a rerun that submits nothing starts nothing), and stops with it. With
a scheduler address the same tasks go to that cluster (anything that hands out an address:
``dask scheduler`` + ``dask worker``, dask-jobqueue, dask-kubernetes, Coiled); its workers need
twinaudit and the frameworks installed, and one thread each (``--nthreads 1``): Keras and
torch keep per-process state that two tasks in one worker would share.

A task that dies with its worker (killed, out of memory) is rerun on another: the scheduler
does that itself, up to ``distributed.scheduler.allowed-failures`` times; since every task is
seeded by its arguments, a rerun computes the same result. Past that it is one line, not a
traceback.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from twinaudit.engine import Collect, Engine, Execution, Progress
from twinaudit.errors import InputError, TwinauditError

T = TypeVar("T")

#: Seconds to wait for a named scheduler before saying it did not answer.
CONNECT_TIMEOUT = 15
#: Set in each local worker before it imports anything: one intra-op and one inter-op thread
#: for TensorFlow (torch's are set per task by the training thread limit), so two workers on
#: two cores do not each start a pool per core.
WORKER_ENVIRONMENT = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                      "TF_CPP_MIN_LOG_LEVEL": "2"}


class DaskEngine(Engine):
    """Tasks on a local cluster (started lazily) or on the cluster at ``run.scheduler``."""

    def __init__(self, run: Execution, progress: Progress | None = None):
        self.run = run
        self.progress = progress
        self._client: Any = None
        self._cluster: Any = None
        # id(value) -> (value, its future): a value shared twice is sent once.
        self._shared: dict[int, tuple[Any, Any]] = {}
        if run.scheduler:
            # Connect now: a wrong address is an input error before any work is done.
            self.client  # noqa: B018 - connecting is the point

    @property
    def client(self) -> Any:
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.run.scheduler:
                try:
                    self._client = Client(self.run.scheduler, timeout=CONNECT_TIMEOUT)
                except (OSError, TimeoutError, ValueError) as error:
                    raise InputError(
                        f"--scheduler {self.run.scheduler}: no Dask scheduler answered within "
                        f"{CONNECT_TIMEOUT} s ({type(error).__name__})") from None
                _check_threads(self._client, self.run.scheduler)
                if self.progress is not None:
                    self.progress.note(f"dask: {len(self._client.scheduler_info()['workers'])} "
                                       f"workers at {self.run.scheduler}; dashboard: "
                                       f"{self._client.dashboard_link}")
            else:
                self._cluster = LocalCluster(
                    n_workers=self.run.workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                    env=WORKER_ENVIRONMENT)
                self._client = Client(self._cluster)
        return self._client

    def _submit(self, stage: str, function: Callable[..., T], *args: Any,
                **kwargs: Any) -> Collect[T]:
        # pure=False: two submissions of equal arguments are two tasks (a retry is the
        # scheduler's, not a cache hit on an earlier future).
        future = self.client.submit(function, *args, pure=False, **kwargs)
        # Called in the client's thread as the task ends, so the display moves while the
        # run waits elsewhere.
        future.add_done_callback(lambda _: self._finished(stage))
        return lambda: _result(future, getattr(function, "__name__", str(function)))

    def share(self, value: T) -> T:
        # A task that returns the value, not client.scatter: scattered data die with the
        # workers holding them ("lost dependencies"), a task's result is recomputed from its
        # spec, which the scheduler keeps. Workers fetch it once and keep it for later tasks.
        if value is None:
            return value
        if id(value) not in self._shared:
            with warnings.catch_warnings():
                # The spec holds the arrays by design; that is what makes them recoverable.
                warnings.filterwarnings("ignore", message=".*[Ll]arge graph.*")
                self._shared[id(value)] = (value, self.client.submit(_identity, value,
                                                                     pure=False))
        return self._shared[id(value)][1]

    def compute(self, graph: Any) -> Any:
        return _result(self.client.compute(graph), "a count of partitions")

    def describe(self) -> dict[str, Any]:
        description: dict[str, Any] = {"kind": self.run.kind, "workers": self.run.workers}
        if self.run.scheduler:
            description.update(scheduler=self.run.scheduler,
                               workers=len(self.client.scheduler_info()["workers"]))
        return description

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
        self._shared.clear()


def _result(future: Any, what: str) -> Any:
    """A future's result; a task the scheduler gave up on (it kept killing its workers) is
    one line, not a traceback."""
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker as error:
        raise TwinauditError(
            f"a task ({what}) was lost with its worker more often than "
            f"distributed.scheduler.allowed-failures allows ({error})") from None


def _identity(value: T) -> T:
    return value


def _check_threads(client: Any, address: str) -> None:
    threaded = sorted(name for name, worker in client.scheduler_info()["workers"].items()
                      if worker.get("nthreads", 1) > 1)
    if threaded:
        client.close()
        raise InputError(
            f"--scheduler {address}: workers {', '.join(threaded)} run more than one thread; "
            "twinaudit's tasks need one thread per worker process (dask worker --nthreads 1)")
