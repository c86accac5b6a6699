"""The privacy stage of a run (``[audits] privacy``): membership inference on every baseline
twin, by group and framework against framework, and DP-SGD twins at each ``[privacy]
epsilons`` budget with what their privacy costs in accuracy and fairness, per group.

What needs no trained baseline twin — LiRA's shadow twins (training tasks like the baseline's,
so the twin cache serves them too) and the DP-SGD twins — is submitted with the baseline's
training; the attacks read the baseline twins when they are done.

The fairness cost follows Bagdasaryan, Poursaeed & Shmatikov ("Differential Privacy Has
Disparate Impact on Model Accuracy", NeurIPS 2019): per group, the accuracy the DP twin of
seed ``s`` loses against the baseline twin of seed ``s`` (a paired change over seeds), and
whether the group with the fewest training rows loses more than the one with the most.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from twinaudit.audits.equivalence import mean_interval, paired_change
from twinaudit.fairness.audit import INTERSECTION_SEPARATOR
from twinaudit.frameworks import Twin
from twinaudit.frameworks.cache import OFF
from twinaudit.privacy.accounting import budget
from twinaudit.privacy.dp_sgd import DPSettings, dp_proof, train_dp_twin
from twinaudit.privacy.membership import (
    FPRS,
    attack_figures,
    candidate_rows,
    confidence_statistic,
    lira_offline_scores,
    loss_scores,
    percentile_interval,
)
from twinaudit.variants import (
    Stage,
    fairness_effect,
    prediction_agreement,
    predictions_frame,
    submit_training,
    twin_summaries,
)

Twins = dict[tuple[str, int], Twin]


def shadow_halves(n_rows: int, shadows: int, random_state: int) -> list[np.ndarray]:
    """The training rows of each shadow: complementary halves of a seeded permutation, pair by
    pair, so every row is left out of exactly half the shadows."""
    halves = []
    for pair in range(shadows // 2):
        order = np.random.default_rng([random_state, 2022, pair]).permutation(n_rows)
        halves += [np.sort(order[:n_rows // 2]), np.sort(order[n_rows // 2:])]
    return halves


def dp_variant(epsilon: float) -> str:
    """A DP-SGD budget's name in the predictions table's ``variant`` column."""
    return f"dp_sgd_eps{epsilon:g}"


class PrivacyAudit:
    """Constructing it samples the candidates and calibrates every budget's noise (cheap; an
    impossible budget raises here, before any training); :meth:`submit` starts the shadow and
    DP-SGD twins; :meth:`finish` runs the attacks and returns ``results["privacy"]`` and the
    DP twins' predictions."""

    def __init__(self, stage: Stage):
        self.stage = stage
        spec, dataset = stage.spec, stage.dataset
        self.settings = spec.privacy
        self.candidates = candidate_rows(len(dataset.train.y), len(dataset.test.y),
                                         max_rows=self.settings.max_candidates,
                                         random_state=self.settings.random_state)
        self.budgets = [budget(epsilon, self.settings.delta, n_rows=len(stage.data.y),
                               batch_size=stage.schedule.batch_size,
                               epochs=stage.schedule.epochs)
                        for epsilon in self.settings.epsilons]

    # -- engine work --------------------------------------------------------------------

    def submit(self) -> None:
        stage, spec = self.stage, self.stage.spec
        self.halves: list[np.ndarray] = []
        self.shadows = []
        if "lira" in self.settings.attacks:
            self.halves = shadow_halves(len(stage.data.y), self.settings.shadows,
                                        self.settings.random_state)
            # Shadow k has seed k; each is a training task like the baseline's (and cached).
            self.shadows = [submit_training(
                stage.engine, spec, stage.data._replace(X=stage.data.X[rows],
                                                        y=stage.data.y[rows]),
                stage.network, stage.schedule, cache=stage.cache, seeds=[k])
                for k, rows in enumerate(self.halves)]
        shared = stage.engine.share(stage.data)
        self.dp_pending = [{(framework, seed): stage.engine.submit(
            "privacy", train_dp_twin, framework, stage.network, stage.schedule, seed,
            spec.training.threads, shared, self._dp_settings(entry))
            for seed in spec.training.seeds for framework in spec.training.frameworks}
            for entry in self.budgets]

    def _dp_settings(self, entry: dict[str, Any]) -> DPSettings:
        return DPSettings(clipping_norm=self.settings.clipping_norm,
                          noise_multiplier=entry["noise_multiplier"])

    # -- results ------------------------------------------------------------------------

    def finish(self, twins: Twins, results: dict, baseline: pd.DataFrame
               ) -> tuple[dict, list[pd.DataFrame]]:
        """``baseline``: the baseline twins' test predictions (the DP twins' accuracy cost is
        read against them)."""
        stage = self.stage
        section: dict[str, Any] = {"candidates": self._describe_candidates(), "attacks": {}}
        if "loss_threshold" in self.settings.attacks:
            section["attacks"]["loss_threshold"] = self._attack(twins, loss_scores)
        if "lira" in self.settings.attacks:
            section["attacks"]["lira"] = self._lira(twins)
        tables = []
        if self.budgets:
            section["dp_sgd"] = {"clipping_norm": self.settings.clipping_norm,
                                 "delta": self.settings.delta, "budgets": []}
        for entry, pending in zip(self.budgets, self.dp_pending, strict=True):
            trained = {key: collect() for key, collect in pending.items()}
            for twin in trained.values():
                twin.history_.setdefault("cache", OFF)
            predictions = predictions_frame(trained, stage.dataset.test,
                                            variant=dp_variant(entry["target_epsilon"]),
                                            threshold=stage.spec.data.threshold)
            tables.append(predictions)
            section["dp_sgd"]["budgets"].append(
                self._budget_section(entry, trained, predictions, baseline, results))
        return section, tables

    def _describe_candidates(self) -> dict[str, Any]:
        n = len(self.candidates.members)
        return {"members": n, "non_members": n, "random_state": self.settings.random_state,
                "balance": f"{n} training rows (members) and {n} test rows (non-members), each "
                           "a seeded sample without replacement: the smaller split's size"
                           + (f" at most, capped at {self.settings.max_candidates}"
                              if self.settings.max_candidates else " at most"),
                "fprs": list(FPRS)}

    @cached_property
    def _inputs(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The candidates' rows, labels and group labels of every group set (built once: every
        attack on every variant reads them)."""
        dataset, candidates = self.stage.dataset, self.candidates
        X = np.concatenate([dataset.train.X[candidates.members],
                            dataset.test.X[candidates.non_members]])
        y = np.concatenate([dataset.train.y[candidates.members],
                            dataset.test.y[candidates.non_members]])
        features = pd.concat([dataset.train.sensitive_features.iloc[candidates.members],
                              dataset.test.sensitive_features.iloc[candidates.non_members]],
                             ignore_index=True)
        return X, y, group_labels(features, self.stage.spec.group_sets)

    def _attack(self, twins: Twins, score, extra: Mapping[str, Any] | None = None
                ) -> dict[str, Any]:
        """One attack on every twin (``score(twin, X, y)``), and the frameworks compared."""
        X, y, groups = self._inputs
        return self._figures({key: score(twin, X, y) for key, twin in twins.items()}, groups,
                             extra)

    def _figures(self, scores: dict[tuple[str, int], np.ndarray], groups: dict[str, np.ndarray],
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        spec, engine = self.stage.spec, self.stage.engine
        is_member = self.candidates.is_member
        # One task per twin: the bootstraps run beside each other.
        pending = {key: engine.submit(
            "privacy", attack_figures, values, is_member, groups,
            n_resamples=spec.fairness.n_resamples, confidence=spec.fairness.confidence,
            random_state=spec.fairness.bootstrap_seed,
            min_group_size=spec.fairness.min_group_size) for key, values in scores.items()}
        figures = {key: collect() for key, collect in pending.items()}
        return {**(extra or {}),
                "twins": [{"framework": framework, "seed": seed, **figures[(framework, seed)]}
                          for framework, seed in figures],
                "by_framework": by_framework(figures, spec.training.frameworks,
                                              spec.fairness.confidence)}

    def _lira(self, twins: Twins) -> dict[str, Any]:
        X, y, groups = self._inputs
        shadows = [collect() for collect in self.shadows]
        n_members = len(self.candidates.members)
        # out[k, i]: shadow k did not train on candidate i (a non-member: no shadow did).
        out = np.ones((len(self.halves), len(y)), bool)
        for k, rows in enumerate(self.halves):
            out[k, :n_members] = ~np.isin(self.candidates.members, rows)
        # A framework's shadows serve every seed of that framework: their φ once each.
        statistics = {framework: np.stack([confidence_statistic(shadow[(framework, k)], X, y)
                                           for k, shadow in enumerate(shadows)])
                      for framework in self.stage.spec.training.frameworks}
        scores = {(framework, seed): lira_offline_scores(confidence_statistic(twin, X, y),
                                                         statistics[framework], out)
                  for (framework, seed), twin in twins.items()}
        return self._figures(scores, groups, {
            "shadows": len(self.halves),
            "shadow_training": "each framework's shadow k (seed k) on one half of the "
                               "training split, shadow k + 1 on the other half; the same "
                               "schedule as the audited twins",
            "variance": "global (one spread over all candidates: the paper's advice for few "
                        "shadows)",
            "shadow_cache": [shadow[(framework, k)].history_.get("cache", OFF)
                             for k, shadow in enumerate(shadows)
                             for framework in self.stage.spec.training.frameworks]})

    def _budget_section(self, entry: dict[str, Any], trained: Twins, predictions: pd.DataFrame,
                        baseline: pd.DataFrame, results: dict) -> dict[str, Any]:
        stage, spec = self.stage, self.stage.spec
        section: dict[str, Any] = {
            **entry,
            "clipping_norm": self.settings.clipping_norm,
            "twins": [{key: value for key, value in summary.items() if key != "history"}
                      for summary in twin_summaries(trained, stage.dataset, None)],
            **fairness_effect(stage, predictions, results),
            "group_accuracy": group_accuracy_cost(
                predictions, baseline, stage.dataset.train.sensitive_features,
                spec.group_sets, confidence=spec.fairness.confidence,
                min_group_size=spec.fairness.min_group_size,
                n_resamples=spec.fairness.n_resamples,
                random_state=spec.fairness.bootstrap_seed),
        }
        if "loss_threshold" in self.settings.attacks:
            section["attack"] = self._attack(trained, loss_scores)
        frameworks = spec.training.frameworks
        if len(frameworks) == 2:
            labels = {key: rows["y_pred"].to_numpy()
                      for key, rows in predictions.groupby(["framework", "seed"], sort=False)}
            section["parity"] = {
                "proof": dp_proof(stage.network, stage.schedule, stage.data.X, stage.data.y,
                                  self._dp_settings(entry), (frameworks[0], frameworks[1]),
                                  seed=spec.training.seeds[0]),
                "prediction_agreement": prediction_agreement(spec, labels)}
        return section


def group_labels(features: pd.DataFrame, group_sets: list[list[str]]) -> dict[str, np.ndarray]:
    """Each row's group in every group set, named as the fairness audit names them."""
    return {INTERSECTION_SEPARATOR.join(columns):
            features[columns].astype(str).agg(INTERSECTION_SEPARATOR.join, axis=1).to_numpy()
            for columns in group_sets}


def group_accuracy_cost(after: pd.DataFrame, before: pd.DataFrame,
                        train_features: pd.DataFrame, group_sets: list[list[str]], *,
                        confidence: float, min_group_size: int, n_resamples: int,
                        random_state: int) -> dict[str, Any]:
    """Per framework and group set: each group's test accuracy before (baseline twins) and
    after (DP twins), and the accuracy it loses, read two ways — over seeds (``loss``: the
    paired change, baseline twin minus DP twin of the same seed: training's noise) and over
    test rows (``rows_ci``: a bootstrap of the group's rows, the same rows for both sides:
    the test sample's noise, which a small group has most of). ``smallest_vs_largest``: the
    loss of the group with the fewest training rows minus that of the group with the most
    ("higher": DP-SGD costs the small group more), read the same two ways."""
    columns = sorted({column for group_set in group_sets for column in group_set})
    train_groups = group_labels(train_features[columns], group_sets)
    rng = np.random.default_rng([random_state, 2019])
    out: dict[str, Any] = {}
    for framework in after["framework"].unique():
        entry: dict[str, Any] = {}
        for columns_of_set in group_sets:
            name = INTERSECTION_SEPARATOR.join(columns_of_set)
            # (seeds, test rows): whether each twin got each row right; rows in test order.
            right_before, test_groups = _correct(before, framework, columns_of_set)
            right_after, _ = _correct(after, framework, columns_of_set)
            sizes = pd.Series(train_groups[name]).value_counts()
            groups = []
            for group in sorted(set(sizes.index) & set(test_groups)):
                rows = test_groups == group
                if sizes[group] < min_group_size or not rows.any():
                    continue
                accuracy_before = right_before[:, rows].mean(axis=1)
                accuracy_after = right_after[:, rows].mean(axis=1)
                # Each row's loss, averaged over seeds: the rows bootstrap resamples these.
                per_row = (right_before[:, rows] - right_after[:, rows]).mean(axis=0)
                groups.append({
                    "group": group, "train_rows": int(sizes[group]),
                    "test_rows": int(rows.sum()), "before": float(accuracy_before.mean()),
                    "after": float(accuracy_after.mean()),
                    # paired_change(before, after) reads after − before: the sides swap to
                    # read before − after, the accuracy lost.
                    "loss": paired_change(accuracy_after.tolist(), accuracy_before.tolist(),
                                          level=confidence),
                    "_seeds": accuracy_before - accuracy_after,
                    "_rows": _mean_resamples(per_row, rng, n_resamples)})
            entry[name] = {"groups": [{**{k: v for k, v in g.items() if not k.startswith("_")},
                                       "rows_ci": percentile_interval(g["_rows"], confidence)}
                                      for g in groups]}
            if len(groups) >= 2:
                smallest = min(groups, key=lambda g: g["train_rows"])
                largest = max(groups, key=lambda g: g["train_rows"])
                entry[name]["smallest_vs_largest"] = {
                    "smallest": smallest["group"], "largest": largest["group"],
                    "difference": paired_change(largest["_seeds"].tolist(),
                                                smallest["_seeds"].tolist(), level=confidence),
                    "rows_ci": percentile_interval(smallest["_rows"] - largest["_rows"],
                                                   confidence)}
        out[str(framework)] = entry
    return out


def _correct(predictions: pd.DataFrame, framework: str,
             columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(seeds, rows) 0/1 of each twin of ``framework`` being right on each test row, and each
    row's group in the set ``columns``."""
    rows = predictions[predictions["framework"] == framework]
    seeds = sorted(rows["seed"].unique())
    first = rows[rows["seed"] == seeds[0]]
    groups = group_labels(first, [columns])[INTERSECTION_SEPARATOR.join(columns)]
    right = np.stack([(part["y_pred"] == part["y_true"]).to_numpy(np.float64)
                      for _, part in rows.groupby("seed", sort=True)])
    return right, groups


def _mean_resamples(values: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """The mean of ``values`` over ``n`` bootstrap resamples of them."""
    return values[rng.integers(0, len(values), (n, len(values)))].mean(axis=1)


def by_framework(figures: dict[tuple[str, int], dict[str, Any]], frameworks: list[str],
                  confidence: float) -> dict[str, Any]:
    """Each framework's AUC over seeds (mean and t interval), and the first two frameworks'
    paired difference (overall and per group): do the twins leak alike?"""
    def aucs(framework: str, pick) -> list[float | None]:
        return [pick(entry) for (fw, _), entry in sorted(figures.items()) if fw == framework]

    def overall(entry: dict[str, Any]) -> float | None:
        return entry["overall"]["auc"]

    out: dict[str, Any] = {"frameworks": {}}
    for framework in frameworks:
        values = aucs(framework, overall)
        defined = [v for v in values if v is not None]
        out["frameworks"][framework] = {"auc_mean": float(np.mean(defined)) if defined else None,
                                        "auc_seed_ci": mean_interval(values, level=confidence)}
    if len(frameworks) == 2:
        first, second = frameworks
        compared: dict[str, Any] = {"auc": paired_change(aucs(first, overall),
                                                         aucs(second, overall),
                                                         level=confidence), "by_group": {}}
        example = next(iter(figures.values()))
        for name, group_set in example["by_group"].items():
            compared["by_group"][name] = {}
            for group in (g["group"] for g in group_set["groups"] if g.get("auc") is not None):
                def pick(entry, name=name, group=group):
                    match = [g for g in entry["by_group"][name]["groups"] if g["group"] == group]
                    return match[0].get("auc") if match else None
                compared["by_group"][name][group] = paired_change(
                    aucs(first, pick), aucs(second, pick), level=confidence)
        out["paired"] = {"reference": first, "other": second, **compared,
                         "reading": "the other framework's AUC minus the reference's, seed by "
                                    "seed"}
    return out
