"""Training progress on the terminal: per framework, seed and epoch; silent when piped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from twinaudit.frameworks.schedule import EpochRecord
from twinaudit.spec import AuditSpec


@contextmanager
def training_progress(spec: AuditSpec, *, enabled: bool = True) -> Iterator:
    """Yield a progress callback for :func:`twinaudit.pipeline.train_twins`, or None.

    Stays quiet when stderr is not a terminal (CI logs, pipes) or when disabled (--quiet).
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    training = spec.training
    # Reweighing trains every twin a second time, with the mitigation weights.
    rounds = 2 if spec.audits.mitigation and spec.mitigation.reweighing else 1
    total = rounds * len(training.seeds) * len(training.frameworks) * training.epochs
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("training", total=total)

        def update(framework: str, seed: int, record: EpochRecord) -> None:
            loss = (f" · val loss {record.validation_loss:.4f}"
                    if record.validation_loss is not None else "")
            bar.update(task, advance=1, description=(
                f"{framework} seed {seed} epoch {record.epoch + 1}/{training.epochs}{loss}"))

        yield update
