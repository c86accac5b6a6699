"""Progress on the terminal: one bar per stage of the run's tasks; silent when piped."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class TaskProgress:
    """A rich bar per stage ("training 7/12"), growing as tasks are submitted and moving as
    they finish; what :class:`twinaudit.engine.Engine` reports to."""

    def __init__(self, bars: Any):
        self._bars = bars
        self._tasks: dict[str, Any] = {}
        # The Dask engine reports finished tasks from its client's thread.
        self._lock = threading.Lock()

    def add(self, stage: str) -> None:
        with self._lock:
            if stage not in self._tasks:
                self._tasks[stage] = self._bars.add_task(stage, total=0)
            task = self._tasks[stage]
            self._bars.update(task, total=self._bars.tasks[task].total + 1)

    def advance(self, stage: str) -> None:
        with self._lock:
            self._bars.update(self._tasks[stage], advance=1)

    def note(self, text: str) -> None:
        self._bars.console.print(text)


@contextmanager
def task_progress(*, enabled: bool = True) -> Iterator[TaskProgress | None]:
    """Yield the run's progress display, or None when stderr is not a terminal (CI logs,
    pipes) or when disabled (``--quiet``)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bars:
        yield TaskProgress(bars)
