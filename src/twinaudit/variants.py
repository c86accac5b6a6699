"""A variant: one set of twins (one per framework × seed) trained one way — the baseline, or
a mitigation's — and what every variant gets: training as engine tasks (or from the twin
cache), its predictions table, its summaries and its parity audit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from twinaudit.audits.parity import submit_parity_audit
from twinaudit.data import Dataset, Split
from twinaudit.engine import Collect, Engine
from twinaudit.fairness.by_twin import before_after, fairness_by_twin
from twinaudit.fairness.mitigation import mitigation_groups
from twinaudit.families import Family
from twinaudit.frameworks import Twin, twin_class
from twinaudit.frameworks.cache import OFF, SectionCache, TrainingInputs, TwinCache, fingerprint
from twinaudit.frameworks.schedule import Schedule
from twinaudit.frameworks.training import TrainingData, train_twin
from twinaudit.nets import Network
from twinaudit.spec import AuditSpec, ParitySection

T = TypeVar("T")


def submit_training(engine: Engine, spec: AuditSpec, data: TrainingData, network: Network,
                    schedule: Schedule, *, sample_weight: np.ndarray | None = None,
                    cache: TwinCache | None = None, seeds: Sequence[int] | None = None
                    ) -> Collect[dict[tuple[str, int], Twin]]:
    """Submit one training task per (framework, seed), all from the same network spec and
    schedule (``seeds``: default the spec's); with a ``cache``, a twin whose every training
    input is unchanged is loaded instead (in this process: it is a read). The returned
    callable waits for the twins and stores the freshly trained ones in the cache."""
    classes = {framework: twin_class(framework) for framework in spec.training.frameworks}
    fingerprints = fingerprint(*data) if cache is not None else ""
    weights = fingerprint(sample_weight) if cache is not None else None
    # The arrays go to the workers once, not with each task.
    shared, shared_weights = engine.share(data), engine.share(sample_weight)
    pending: dict[tuple[str, int], tuple[TrainingInputs, Collect[Twin]]] = {}
    for seed in spec.training.seeds if seeds is None else seeds:
        for framework in spec.training.frameworks:
            inputs = TrainingInputs(network, schedule, seed, framework, spec.training.threads,
                                    fingerprints, weights)
            cached = cache.load(classes[framework], inputs) if cache is not None else None
            pending[(framework, seed)] = (inputs, engine.submit(
                "training", train_twin, framework, network, schedule, seed,
                spec.training.threads, shared, shared_weights) if cached is None
                else ready(cached))

    def collect() -> dict[tuple[str, int], Twin]:
        twins = {}
        for key, (inputs, twin_of) in pending.items():
            twin = twin_of()
            if cache is not None and "cache" not in twin.history_:  # trained, not loaded
                cache.store(twin, inputs)
            twins[key] = twin
        return twins

    return collect


def ready(value: T) -> Collect[T]:
    """An already known result, as the engine's tasks give theirs."""
    return lambda: value


def training_data(dataset: Dataset) -> TrainingData:
    return TrainingData(dataset.train.X, dataset.train.y, dataset.validation.X,
                        dataset.validation.y)


def predictions_frame(twins: dict[tuple[str, int], Twin], split: Split, *,
                      variant: str = "baseline", threshold: float = 0.5,
                      thresholds: dict[tuple[str, int], float] | None = None) -> pd.DataFrame:
    """Per-row predictions of every twin on a split, with the sensitive features beside them.

    ``y_true``, ``score`` and ``y_pred`` are the binary outcomes the fairness audit reads;
    what they mean is the network's task's (:meth:`twinaudit.nets.tasks.Task.prediction_columns`:
    a binary classifier's ``y_pred`` is its score at or above ``threshold``; a
    reconstruction's is the anomaly flag at the twin's own validation threshold,
    ``thresholds``).
    """
    frames = []
    for (framework, seed), twin in twins.items():
        threshold = thresholds[(framework, seed)] if thresholds else threshold
        assert twin.network is not None, "the twin has no network"  # trained twins have one
        columns: dict = {"row_id": split.row_id, "variant": variant, "framework": framework,
                         "seed": seed,
                         **twin.network.task.prediction_columns(twin, split.X, split.y,
                                                                threshold=threshold)}
        frame = pd.DataFrame(columns)
        frames.append(pd.concat([frame, split.sensitive_features], axis=1))
    return pd.concat(frames, ignore_index=True)


def twin_summaries(twins: dict[tuple[str, int], Twin], dataset: Dataset,
                   checkpoints: dict[tuple[str, int], Path] | None) -> list[dict]:
    summaries = []
    for (framework, seed), twin in twins.items():
        assert twin.network is not None, "the twin has no network"  # trained twins have one
        history = twin.history_
        summaries.append({
            "framework": framework,
            "seed": seed,
            **twin.network.task.summary(twin, dataset.test.X, dataset.test.y),
            "epochs_run": len(history["epochs"]),
            "best_epoch": history["best_epoch"],
            "train_seconds": history["train_seconds"],
            # Loaded from the twin cache, trained and stored, or trained with it off.
            "cache": history.get("cache", OFF),
            "history": history["epochs"],
            "checkpoint": str(checkpoints[(framework, seed)]) if checkpoints else None,
        })
    return summaries


def submit_parity(engine: Engine, spec: AuditSpec, twins: dict[tuple[str, int], Twin],
                  data: TrainingData, sample_weight: np.ndarray | None, dataset: Dataset,
                  network: Network, schedule: Schedule, *, settings: ParitySection,
                  sections: SectionCache) -> Collect[dict]:
    """The parity audit of every pair of the run's implementations, as tasks of the engine (or
    read from the section cache)."""
    key = sections.key("parity", twins.values(), dataclasses.asdict(settings))
    cached = sections.load(key)
    if cached is not None:
        return ready(cached)
    collect = submit_parity_audit(engine, twins, engine.share(data), sample_weight,
                                  (dataset.test.X, dataset.test.y), network=network,
                                  schedule=schedule, frameworks=tuple(spec.training.frameworks),
                                  settings=settings,
                                  threads=spec.training.threads)

    def stored() -> dict:
        section = collect()
        sections.store(key, section)
        return section

    return stored


@dataclass(frozen=True)
class Stage:
    """What a stage that trains further variants (the mitigations, the privacy audit) reads
    of the run."""

    spec: AuditSpec
    dataset: Dataset
    network: Network
    schedule: Schedule
    family: Family
    engine: Engine
    data: TrainingData
    cache: TwinCache
    sections: SectionCache

    @cached_property
    def train_groups(self) -> tuple[np.ndarray, list[str]]:
        """Each training row's group for the training-time mitigations, and the pooled ones."""
        labels, _, pooled = mitigation_groups(self.dataset.train.sensitive_features,
                                              self.spec.reweigh_on,
                                              self.spec.fairness.min_group_size)
        return labels, pooled



def fairness_effect(stage: Stage, predictions: pd.DataFrame, results: dict) -> dict:
    """Fairness of a variant (a mitigation's, or DP-SGD's twins) and its before/after
    against the baseline twins."""
    after = fairness_by_twin(predictions, stage.spec, stage.family.calibrated_scores,
                             favourable=stage.dataset.favourable_label, engine=stage.engine)
    effect = {"fairness": after}
    if "fairness" in results:
        effect["before_after"] = before_after(results["fairness"], after,
                                              confidence=stage.spec.fairness.confidence)
    return effect


def prediction_agreement(spec: AuditSpec, labels: dict[tuple[str, int], np.ndarray]
               ) -> dict[str, float] | None:
    """The share of test rows whose predicted label the first two frameworks' twins (or
    reductions) of the same seed agree on (mean and minimum over seeds)."""
    frameworks = spec.training.frameworks
    if len(frameworks) < 2:
        return None
    shares = [float((labels[(frameworks[0], seed)] == labels[(frameworks[1], seed)]).mean())
              for seed in spec.training.seeds]
    return {"mean": float(np.mean(shares)), "min": float(np.min(shares))}
