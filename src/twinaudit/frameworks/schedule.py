"""The one training schedule that drives every twin, whatever its framework.

The loop lives here, in numpy, so the two twins cannot differ in it: the same batch index
order (a generator seeded by (seed, epoch)), the same per-batch weights, the same validation
loss and the same early-stopping decision. A framework only supplies one optimizer step on a
given batch and a forward pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from twinaudit.spec import TrainingSection

# The defaults are [training]'s: written once, in the spec.
_DEFAULTS = TrainingSection()


@dataclass(frozen=True)
class Schedule:
    """Training settings shared by both twins; Adam follows torch's rule (see optimizers)."""

    epochs: int = _DEFAULTS.epochs
    batch_size: int = _DEFAULTS.batch_size
    learning_rate: float = _DEFAULTS.learning_rate
    beta_1: float = _DEFAULTS.beta_1
    beta_2: float = _DEFAULTS.beta_2
    epsilon: float = _DEFAULTS.epsilon
    early_stopping: bool = _DEFAULTS.early_stopping
    patience: int = _DEFAULTS.patience

    @classmethod
    def from_section(cls, section: TrainingSection) -> Schedule:
        """The schedule part of ``[training]`` (its other keys say which twins, not how)."""
        return cls(**{f.name: getattr(section, f.name) for f in fields(cls)})


def batch_order(seed: int, epoch: int, n_rows: int, batch_size: int) -> list[np.ndarray]:
    """The row indices of every batch of one epoch, from a generator seeded by (seed, epoch)."""
    permutation = np.random.default_rng([seed, epoch]).permutation(n_rows)
    return [permutation[start:start + batch_size] for start in range(0, n_rows, batch_size)]


def batch_weights(sample_weight: np.ndarray) -> np.ndarray | None:
    """Per-row weights scaled so that a mean over the batch equals sum(w·l) / sum(w).

    Both frameworks reduce a weighted loss by the batch *size* (Keras' default, and our torch
    step does the same), so rescaling the weights to average 1 makes that mean the weighted
    average we want. Returns None for a batch whose weights sum to zero: it carries no
    information and both twins skip it.
    """
    total = float(sample_weight.sum(dtype=np.float64))
    if total <= 0:
        return None
    return (sample_weight * (len(sample_weight) / total)).astype(np.float32)


@dataclass
class EpochRecord:
    epoch: int
    validation_loss: float | None
    validation_accuracy: float | None
    seconds: float


EpochCallback = Callable[[EpochRecord], None]
#: ``(X batch, y batch, batch weights or None, the batch's row indices) -> None``: one
#: optimisation step; the default is the twin's own ``train_step``.
StepFunction = Callable[[np.ndarray, np.ndarray, "np.ndarray | None", np.ndarray], None]
#: ``(seed, epoch, n_rows, batch_size) -> the row indices of each batch of the epoch``; the
#: default is :func:`batch_order`.
BatchOrder = Callable[[int, int, int, int], list[np.ndarray]]


def run_schedule(
    twin,
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    schedule: Schedule,
    seed: int,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch: EpochCallback | None = None,
    step: StepFunction | None = None,
    batches: BatchOrder | None = None,
) -> dict:
    """Train an initialised twin; returns its history (per-epoch records and weight snapshots).

    With early stopping, the best epoch's weights (lowest validation loss) are restored.
    ``step`` replaces the twin's own ``train_step`` (adversarial debiasing steps with an
    adversary beside the twin); ``batches`` replaces the shuffled batches (DP-SGD samples each
    row into each batch independently). Weights and stopping stay the schedule's.
    """
    def own_step(X_batch, y_batch, weights, rows):
        if weights is None:
            twin.train_step(X_batch, y_batch)
        else:
            twin.train_step(X_batch, y_batch, weights)

    step = step or own_step
    batches = batches or batch_order
    records: list[EpochRecord] = []
    snapshots: list[dict[str, np.ndarray]] = []
    best_loss, best_epoch, best_weights = np.inf, -1, None
    for epoch in range(schedule.epochs):
        started = time.perf_counter()
        for rows in batches(seed, epoch, len(y), schedule.batch_size):
            if sample_weight is None:
                step(X[rows], y[rows], None, rows)
                continue
            weights = batch_weights(sample_weight[rows])
            if weights is not None:
                step(X[rows], y[rows], weights, rows)
        seconds = time.perf_counter() - started
        record = EpochRecord(epoch, None, None, seconds)
        if validation is not None:
            record.validation_loss, record.validation_accuracy = \
                twin.network.task.validation_figures(twin, *validation)
        records.append(record)
        snapshots.append(twin.get_weights())
        if on_epoch is not None:
            on_epoch(record)
        if schedule.early_stopping and record.validation_loss is not None:
            if record.validation_loss < best_loss:
                best_loss, best_epoch, best_weights = record.validation_loss, epoch, snapshots[-1]
            elif epoch - best_epoch >= schedule.patience:
                break
    if best_weights is not None:
        twin.set_weights(best_weights)
    return {
        "epochs": [vars(record) for record in records],
        "best_epoch": best_epoch if best_weights is not None else len(records) - 1,
        "snapshots": snapshots,
        "train_seconds": float(sum(record.seconds for record in records)),
    }
