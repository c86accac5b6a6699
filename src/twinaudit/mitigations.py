"""The mitigation stage of a run: each ``[mitigation] methods`` entry applied identically to
every framework's twins, with its fairness, its before/after against the baseline twins and,
where the twins are retrained, its parity proof.

Three kinds of method, by where they act (:data:`twinaudit.vocabulary.MITIGATIONS`):

- **pre-processing** — the twins retrain on changed training data, the same for every
  framework and seed: Kamiran–Calders weights (``reweighing``) or a re-sampled multiset of
  rows (``uniform_resampling``, ``preferential_resampling``). The new data go through the
  one shared schedule, so the parity proof covers the retrained twins as it covers the
  baseline's;
- **in-processing** — adversarial debiasing (``adversarial``: each twin trained against an
  adversary of the group, proven identical across frameworks by its own float64 proof) and
  fairlearn's reductions (``exponentiated_gradient``, ``grid_search``) with a fresh twin of
  each framework and seed as their estimator;
- **post-processing** — fairlearn's ``ThresholdOptimizer`` on each baseline twin's scores.

What needs no trained baseline twin (the weights, the uniform multiset, the adversarial
twins, the reductions) is
submitted to the engine with the baseline's training; preferential re-sampling ranks rows by
a baseline twin's scores and thresholds post-process them, so both wait for the baseline.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pandas as pd

from twinaudit.data import Dataset
from twinaudit.engine import Collect
from twinaudit.fairness.adversarial import (
    AdversarialSettings,
    adversarial_proof,
    train_adversarial_twin,
)
from twinaudit.fairness.mitigation import (
    Constraint,
    group_balance_weights,
    mitigation_groups,
    reweighing_weights,
    threshold_optimizer_predictions,
)
from twinaudit.fairness.reductions import REDUCTIONS, ReductionOutcome, fit_reduction
from twinaudit.fairness.resampling import resampled_rows
from twinaudit.frameworks import Twin, twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.frameworks.training import TrainingData
from twinaudit.nets import RECONSTRUCTION, Network
from twinaudit.spec import AuditSpec
from twinaudit.variants import (
    Stage,
    fairness_effect,
    prediction_agreement,
    predictions_frame,
    submit_parity,
    submit_training,
    twin_summaries,
)

Twins = dict[tuple[str, int], Twin]
#: Each pre-processing method's name in the predictions table's ``variant`` column.
VARIANTS = {"reweighing": "reweighed", "uniform_resampling": "uniform_resampling",
            "preferential_resampling": "preferential_resampling", "adversarial": "adversarial"}


class Mitigation(ABC):
    """One method of the stage. Constructing it checks its data (cheap; an impossible
    mitigation raises here, before any training); :meth:`submit` starts its engine work;
    :meth:`finish` waits for it and returns its section of ``results["mitigation"]`` and its
    predictions table."""

    def __init__(self, stage: Stage):
        self.stage = stage

    def submit(self) -> None:  # noqa: B027 - a hook: most methods have nothing to start early
        """Start what needs no trained baseline twin (by default: nothing)."""

    @abstractmethod
    def finish(self, twins: Twins, results: dict) -> tuple[dict, pd.DataFrame]: ...


class Mitigations:
    """Every method the spec lists, in its order (see the module's docstring)."""

    def __init__(self, stage: Stage):
        classes: dict[str, Callable[[Stage], Mitigation]] = {
            "reweighing": Reweighing, "uniform_resampling": UniformResampling,
            "preferential_resampling": PreferentialResampling, "adversarial": Adversarial,
            "exponentiated_gradient": lambda stage: Reduction(stage, "exponentiated_gradient"),
            "grid_search": lambda stage: Reduction(stage, "grid_search"),
            "threshold_optimizer": ThresholdOptimizer}
        self.methods = {name: classes[name](stage) for name in stage.spec.mitigation.methods}

    def submit(self) -> None:
        for method in self.methods.values():
            method.submit()

    def finish(self, twins: Twins, results: dict) -> tuple[dict, list[pd.DataFrame]]:
        sections, predictions = {}, []
        for name, method in self.methods.items():
            sections[name], table = method.finish(twins, results)
            predictions.append(table)
        return sections, predictions


# -- pre-processing ----------------------------------------------------------------------


class Retraining(Mitigation):
    """A pre-processing known before any training: new training data (and weights) that the
    twins of every framework and seed retrain on, submitted beside the baseline's."""

    name: str
    data: TrainingData
    weights: np.ndarray | None = None

    def about(self) -> dict[str, Any]:
        """What the section says of the new data."""
        return {}

    def submit(self) -> None:
        stage = self.stage
        self.pending = submit_training(stage.engine, stage.spec, self.data, stage.network,
                                       stage.schedule, sample_weight=self.weights,
                                       cache=stage.cache)

    def finish(self, twins: Twins, results: dict) -> tuple[dict, pd.DataFrame]:
        return _retrained(self.stage, self.name, self.pending, self.data, self.weights,
                          self.about(), results)


class Reweighing(Retraining):
    """Kamiran–Calders weights; for a network without a label (the autoencoder), weights that
    give every group the same total weight."""

    name = "reweighing"

    def __init__(self, stage: Stage):
        super().__init__(stage)
        train, settings = stage.dataset.train, stage.spec.fairness
        self.data = stage.data
        self.labelled = not stage.network.task.target_is_input
        self.weights = (
            reweighing_weights(train.y, train.sensitive_features, stage.spec.reweigh_on,
                               min_group_size=settings.min_group_size) if self.labelled else
            group_balance_weights(train.sensitive_features, stage.spec.reweigh_on,
                                  min_group_size=settings.min_group_size))

    def about(self) -> dict[str, Any]:
        assert self.weights is not None
        return {"scheme": "Kamiran-Calders: the label independent of the group"
                if self.labelled else "group balance: every group the same total weight",
                "weights": {"min": float(self.weights.min()), "max": float(self.weights.max()),
                            "mean": float(self.weights.mean())}}


class UniformResampling(Retraining):
    name = "uniform_resampling"

    def __init__(self, stage: Stage):
        super().__init__(stage)
        self.rows = _resampled(stage, "uniform")
        self.data = _rows_of(stage.data, self.rows)

    def about(self) -> dict[str, Any]:
        return _resampling_summary(
            self.stage, self.rows, "uniform",
            chosen_by=f"seeded draw ([data] split_seed = {self.stage.spec.data.split_seed})")


class PreferentialResampling(Mitigation):
    def __init__(self, stage: Stage):
        super().__init__(stage)
        _resampled(stage, "uniform")  # the same cells' checks; the ranker comes later

    def finish(self, twins: Twins, results: dict) -> tuple[dict, pd.DataFrame]:
        stage = self.stage
        # One ranker for every framework and seed, so all twins train on one multiset: the
        # reference framework's twin of the first seed.
        key = (stage.spec.training.frameworks[0], stage.spec.training.seeds[0])
        rows = _resampled(stage, "preferential", twins[key].predict_proba(stage.data.X)[:, 1])
        data = _rows_of(stage.data, rows)
        pending = submit_training(stage.engine, stage.spec, data, stage.network,
                                  stage.schedule, cache=stage.cache)
        about = _resampling_summary(stage, rows, "preferential",
                                    chosen_by=f"scores of the {key[0]} twin of seed {key[1]}")
        return _retrained(stage, "preferential_resampling", pending, data, None, about,
                          results)


def _resampled(stage: Stage, scheme: str, scores: np.ndarray | None = None) -> np.ndarray:
    return resampled_rows(stage.dataset.train.y, stage.dataset.train.sensitive_features,
                          stage.spec.reweigh_on, scheme=cast(Any, scheme), scores=scores,
                          random_state=stage.spec.data.split_seed,
                          min_group_size=stage.spec.fairness.min_group_size)


def _rows_of(data: TrainingData, rows: np.ndarray) -> TrainingData:
    """The re-sampled training rows; validation is untouched (it measures, it is not fitted)."""
    return data._replace(X=data.X[rows], y=data.y[rows])


def _resampling_summary(stage: Stage, rows: np.ndarray, scheme: str, *,
                        chosen_by: str) -> dict[str, Any]:
    """The cells before and after, and how many rows were repeated or left out."""
    groups = stage.train_groups[0]
    labels = stage.dataset.train.y
    copies = np.bincount(rows, minlength=len(labels))
    cells = []
    for group in sorted(set(groups.tolist()), key=str):
        for label in (0, 1):
            in_cell = (groups == group) & (labels == label)
            cells.append({"group": str(group), "label": label, "before": int(in_cell.sum()),
                          "after": int(copies[in_cell].sum())})
    return {"scheme": scheme, "chosen_by": chosen_by, "cells": cells,
            "rows": {"repeated": int((copies > 1).sum()), "left_out": int((copies == 0).sum()),
                     "total": int(len(rows))}}


def _retrained(stage: Stage, method: str, pending: Collect[Twins], data: TrainingData,
               weights: np.ndarray | None, about: dict[str, Any],
               results: dict) -> tuple[dict, pd.DataFrame]:
    """Twins retrained on a pre-processing's data: their summaries, fairness, trade-off and
    the identical-settings proof on the new data."""
    spec, dataset = stage.spec, stage.dataset
    retrained = pending()
    thresholds = None
    if stage.network.task is RECONSTRUCTION:
        # Each retrained autoencoder flags above its own validation quantile, as the
        # baseline's do: the overall flag rate stays the quantile's.
        thresholds = {key: RECONSTRUCTION.flag_threshold(twin, dataset.validation.X,
                                                         spec.fairness.flag_quantile)
                      for key, twin in retrained.items()}
    predictions = predictions_frame(retrained, dataset.test, variant=VARIANTS[method],
                                    threshold=spec.data.threshold, thresholds=thresholds)
    section = {
        "groups": spec.reweigh_on,
        "pooled_groups": stage.train_groups[1],
        **about,
        "twins": [{key: value for key, value in summary.items() if key != "history"}
                  for summary in twin_summaries(retrained, dataset, None)],
        **fairness_effect(stage, predictions, results),
    }
    if "parity" in results:
        # The identical-settings proof must hold for the new training data too (weighted
        # batches, repeated rows); the chaos envelope, one more training run, is the
        # baseline's.
        parity = submit_parity(
            stage.engine, spec, retrained, data, weights, dataset, stage.network,
            stage.schedule,
            # The new data are what is new here: one seed shows them.
            settings=dataclasses.replace(spec.parity, chaos_envelope=False, proof_seeds=1),
            sections=stage.sections)()
        section["parity"] = {key: parity[key] for key in
                             ("verdict", "proof", "accuracy", "prediction_agreement")}
    return section, predictions


# -- in-processing -----------------------------------------------------------------------


class Adversarial(Mitigation):
    """Each framework's twin of each seed trained against an adversary of the training-time
    grouping (:mod:`twinaudit.fairness.adversarial`)."""

    def __init__(self, stage: Stage):
        super().__init__(stage)
        mitigation = stage.spec.mitigation
        self.settings = AdversarialSettings(constraints=mitigation.constraints,
                                            alpha=mitigation.adversary_alpha)
        _, codes = np.unique(stage.train_groups[0].astype(str), return_inverse=True)
        self.groups = codes.reshape(-1)
        # Every epoch, without early stopping: the twin's own validation loss rises as it
        # gives up what the adversary could use, so stopping on it would undo the debiasing
        # (on Adult it stopped one seed at its first epoch, predicting nobody positive).
        self.schedule = dataclasses.replace(stage.schedule, early_stopping=False)

    def submit(self) -> None:
        stage, spec = self.stage, self.stage.spec
        shared = stage.engine.share(stage.data)
        self.pending = {(framework, seed): stage.engine.submit(
            "mitigation", train_adversarial_twin, framework, stage.network,
            self.schedule, seed, spec.training.threads, shared, self.groups, self.settings)
            for seed in spec.training.seeds for framework in spec.training.frameworks}

    def finish(self, twins: Twins, results: dict) -> tuple[dict, pd.DataFrame]:
        stage, spec, dataset = self.stage, self.stage.spec, self.stage.dataset
        trained = {key: collect() for key, collect in self.pending.items()}
        predictions = predictions_frame(trained, dataset.test, variant="adversarial",
                                        threshold=spec.data.threshold)
        section = {
            "constraints": self.settings.constraints, "alpha": self.settings.alpha,
            "groups": spec.reweigh_on, "pooled_groups": stage.train_groups[1],
            "epochs": self.schedule.epochs, "early_stopping": False,
            "adversary": "softmax regression over the groups, from the twin's logit margin"
                         + (" and the label" if self.settings.constraints == "equalized_odds"
                            else ""),
            "twins": [{key: value for key, value in summary.items() if key != "history"}
                      for summary in twin_summaries(trained, dataset, None)],
            **fairness_effect(stage, predictions, results),
        }
        frameworks = spec.training.frameworks
        if len(frameworks) == 2:
            section["parity"] = {
                "proof": adversarial_proof(stage.network, self.schedule, stage.data.X,
                                           stage.data.y, self.groups, self.settings,
                                           (frameworks[0], frameworks[1]),
                                           seed=spec.training.seeds[0]),
                "prediction_agreement": prediction_agreement(spec, {
                    key: (predictions["y_pred"][(predictions["framework"] == key[0])
                                                & (predictions["seed"] == key[1])]).to_numpy()
                    for key in trained})}
        return section, predictions



def reduction_task(method: str, framework: str, network: Network, schedule: Schedule,
                   seed: int, threads: int, data: TrainingData, groups: np.ndarray,
                   X_test: np.ndarray, settings: dict[str, Any]) -> ReductionOutcome:
    """One reduction with the ``framework`` twin of ``seed`` as its estimator: an engine task.

    The twins it trains see no validation split (fairlearn calls ``fit(X, y,
    sample_weight)``), so they train for every epoch of the schedule, without early stopping.
    """
    cls = twin_class(framework)
    with cls.thread_limit(threads):
        return fit_reduction(method, cls(network, schedule, random_state=seed), data.X, data.y,
                             groups, X_test, random_state=seed, **settings)


class Reduction(Mitigation):
    def __init__(self, stage: Stage, method: str):
        super().__init__(stage)
        assert method in REDUCTIONS, method
        self.method = method

    def submit(self) -> None:
        stage, spec = self.stage, self.stage.spec
        mitigation = spec.mitigation
        settings = {"constraints": mitigation.constraints, "eps": mitigation.reductions_eps,
                    "max_iter": mitigation.reductions_max_iter,
                    "grid_size": mitigation.grid_size}
        shared, groups = stage.engine.share(stage.data), stage.train_groups[0].astype(str)
        self.pending = {(framework, seed): stage.engine.submit(
            "mitigation", reduction_task, self.method, framework, stage.network,
            stage.schedule, seed, spec.training.threads, shared, groups,
            stage.dataset.test.X, settings)
            for seed in spec.training.seeds for framework in spec.training.frameworks}

    def finish(self, twins: Twins, results: dict) -> tuple[dict, pd.DataFrame]:
        stage, spec, mitigation = self.stage, self.stage.spec, self.stage.spec.mitigation
        outcomes = {key: collect() for key, collect in self.pending.items()}
        predictions = _reduction_predictions(stage, self.method, outcomes)
        section = {
            "constraints": mitigation.constraints, "groups": spec.reweigh_on,
            "pooled_groups": stage.train_groups[1],
            **({"eps": mitigation.reductions_eps, "max_iter": mitigation.reductions_max_iter}
               if self.method == "exponentiated_gradient" else
               {"grid_size": mitigation.grid_size}),
            "estimator": "a twin of each framework and seed, trained without early stopping",
            "twins": [{"framework": framework, "seed": seed,
                       "test_accuracy": float((outcome.y_pred == stage.dataset.test.y).mean()),
                       "n_trained": outcome.n_trained, "n_used": outcome.n_used,
                       "n_constant": outcome.n_constant, "fit_seconds": outcome.fit_seconds}
                      for (framework, seed), outcome in outcomes.items()],
            **fairness_effect(stage, predictions, results),
        }
        agreement = prediction_agreement(spec, {key: o.y_pred for key, o in outcomes.items()})
        if agreement is not None:
            section["prediction_agreement"] = agreement
        return section, predictions


def _reduction_predictions(stage: Stage, method: str,
                           outcomes: dict[tuple[str, int], ReductionOutcome]) -> pd.DataFrame:
    test = stage.dataset.test
    frames = [pd.concat([pd.DataFrame({"row_id": test.row_id, "variant": method,
                                       "framework": framework, "seed": seed,
                                       "y_true": test.y, "score": outcome.score,
                                       "y_pred": outcome.y_pred}),
                         test.sensitive_features], axis=1)
              for (framework, seed), outcome in outcomes.items()]
    return pd.concat(frames, ignore_index=True)


# -- post-processing ---------------------------------------------------------------------


class ThresholdOptimizer(Mitigation):
    def finish(self, twins: Twins, results: dict) -> tuple[dict, pd.DataFrame]:
        stage, spec, dataset = self.stage, self.stage.spec, self.stage.dataset
        predictions = threshold_optimized(twins, dataset, spec)
        section = {
            "constraints": spec.mitigation.constraints, "groups": spec.threshold_on,
            "pooled_groups": mitigation_groups(
                dataset.validation.sensitive_features, spec.threshold_on,
                spec.fairness.min_group_size, dataset.test.sensitive_features)[2],
            "fitted_on": "validation split scores of each twin",
            **fairness_effect(stage, predictions, results),
        }
        return section, predictions


def threshold_optimized(twins: Twins, dataset: Dataset, spec: AuditSpec) -> pd.DataFrame:
    """Post-processed test predictions: per-group thresholds fitted on validation scores."""
    frame = predictions_frame(twins, dataset.test, variant="threshold_optimizer",
                              threshold=spec.data.threshold)
    for (framework, seed), twin in twins.items():
        rows = (frame["framework"] == framework) & (frame["seed"] == seed)
        frame.loc[rows, "y_pred"] = threshold_optimizer_predictions(
            twin.predict_proba(dataset.validation.X)[:, 1], dataset.validation.y,
            dataset.validation.sensitive_features, frame.loc[rows, "score"].to_numpy(),
            dataset.test.sensitive_features, columns=spec.threshold_on,
            # spec.load checked it is one of CONSTRAINTS.
            constraints=cast(Constraint, spec.mitigation.constraints), random_state=seed,
            min_group_size=spec.fairness.min_group_size,
        )
    return frame
