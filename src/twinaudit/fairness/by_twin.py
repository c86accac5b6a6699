"""Fairness of every twin, across seeds and frameworks, and mitigation before/after.

Everything here reads the per-row predictions table (one row per test row × variant ×
framework × seed), never a model: the same table the run writes to predictions.parquet, so
anyone can recompute every figure from that file.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from twinaudit.audits.equivalence import mean_interval, paired_change
from twinaudit.engine import Engine, InProcess
from twinaudit.fairness.audit import (
    DISPARITIES,
    audit_predictions,
    fairness_audit,
    summarise_across_seeds,
)
from twinaudit.spec import AuditSpec

if TYPE_CHECKING:
    from twinaudit.data.partitioned import CountedPredictions


def audit_settings(spec: AuditSpec, *, favourable: int = 1) -> dict[str, Any]:
    """The fairness settings as recorded in results.json.

    ``favourable`` is the value of ``y_true`` / ``y_pred`` (0 or 1) that is good for the
    person, as the pipeline encodes the spec's favourable label.
    """
    return {
        "group_sets": spec.group_sets,
        "privileged": dict(spec.fairness.privileged),
        "n_resamples": spec.fairness.n_resamples,
        "confidence": spec.fairness.confidence,
        "bootstrap_seed": spec.fairness.bootstrap_seed,
        "favourable_label": favourable,
        "min_group_size": spec.fairness.min_group_size,
        "rate_interval": spec.fairness.rate_interval,
        "multiplicity": spec.fairness.multiplicity,
    }


def fairness_by_twin(predictions: pd.DataFrame, spec: AuditSpec, calibrated: bool, *,
                     favourable: int = 1, engine: Engine | None = None) -> dict[str, Any]:
    """A fairness audit per (framework, seed) of one variant, and the summary across seeds.

    Every twin is bootstrapped with the same seed (common random numbers), so differences
    between twins are not inflated by different resampling draws. ``favourable`` (0 or 1) is
    the outcome that is good for the person (see :func:`fairness_audit`); groups under
    ``[fairness] min_group_size`` rows are left out of the disparities. The run's p-values
    are adjusted together afterwards by :func:`twinaudit.fairness.multiplicity.flag_run`.
    Each twin's audit is a task of ``engine`` (default: in this process, in turn).

    Returns
    -------
    dict
        ``{"twins": {framework: {seed: audit}}, "summary": summarise_across_seeds(...)}``,
        seeds as strings (JSON object keys).
    """
    columns = list(spec.data.sensitive_features)
    # The calibration error needs P(label 1): ``calibrated`` says whether ``score`` is one
    # (the network family's say, or whether a prediction table has scores).
    twins: dict[str, dict[str, Any]] = {}
    runs = []
    engine = engine or InProcess()
    # One task per twin, all submitted before any is collected.
    pending = [(framework, seed, engine.submit(
        "fairness", fairness_audit, rows["y_true"].to_numpy(), rows["y_pred"].to_numpy(),
        rows["score"].to_numpy() if calibrated else None,
        rows[columns].reset_index(drop=True), **_audit_options(spec, favourable)))
        for (framework, seed), rows in predictions.groupby(["framework", "seed"], sort=False)]
    for framework, seed, collect in pending:
        audit = collect()
        twins.setdefault(framework, {})[str(seed)] = audit
        runs.append({"framework": framework, "seed": int(seed), "audit": audit})
    result: dict[str, Any] = {"twins": twins}
    # The summary compares the first pair of implementations (the first listed is the
    # reference); with three or more, ``summary_pairs`` compares every further pair.
    listed = tuple(spec.training.frameworks)
    if len(listed) >= 2 and set(twins) >= set(listed):
        first, *others = [summarise_across_seeds(
            [run for run in runs if run["framework"] in pair], frameworks=pair,
            margins=spec.parity.margins_with_defaults, alpha=spec.parity.alpha)
            for pair in combinations(listed, 2)]
        result["summary"] = first
        if others:
            result["summary_pairs"] = others
    return result


def fairness_of_counts(counted: CountedPredictions, spec: AuditSpec, model: str) -> dict[str, Any]:
    """:func:`fairness_by_twin`'s layout for one counted prediction table (one model, seed 0):
    the same audit, from counts (:mod:`twinaudit.fairness.partitioned`)."""
    audit = audit_predictions(counted.counts, counted.groups, counted.n_rows,
                              **_audit_options(spec, counted.favourable_label))
    return {"twins": {model: {"0": audit}}}


def _audit_options(spec: AuditSpec, favourable: int) -> dict[str, Any]:
    """The spec's fairness settings as the audit's keyword arguments."""
    return {"group_sets": spec.group_sets, "privileged": spec.fairness.privileged or None,
            "n_resamples": spec.fairness.n_resamples, "confidence": spec.fairness.confidence,
            "random_state": spec.fairness.bootstrap_seed, "favourable": favourable,
            "min_group_size": spec.fairness.min_group_size,
            "rate_interval": spec.fairness.rate_interval}


def before_after(before: dict[str, Any], after: dict[str, Any], *,
                 confidence: float = 0.95) -> dict[str, Any]:
    """For each framework: accuracy and every disparity before and after a mitigation.

    Each side of a figure is the mean and standard deviation over seeds, the ``confidence``
    t interval of that mean (``seed_ci``: the seeds' own noise), and the first seed's
    bootstrap interval (intervals of different seeds are not averaged: that has no
    statistical meaning). ``change`` is after mean − before mean, and ``paired`` the same
    change read on the pairs a seed makes (the mitigated and the baseline twin of seed ``s``:
    :func:`twinaudit.audits.equivalence.paired_change`), so a change inside seed noise reads
    "no clear change".
    """
    table: dict[str, Any] = {}
    for framework, before_runs in before["twins"].items():
        after_runs = after["twins"].get(framework)
        if after_runs is None:
            continue
        seeds = sorted(set(before_runs) & set(after_runs), key=int)

        # The loop's values are bound as defaults (B023); row is only called in this iteration.
        def row(extract: Callable[..., Any], before_runs: dict[Any, Any] = before_runs,
                after_runs: dict[Any, Any] = after_runs,
                seeds: list[Any] = seeds) -> dict[str, Any]:
            first = [extract(before_runs[seed]) for seed in seeds]
            second = [extract(after_runs[seed]) for seed in seeds]
            return {"before": _over_seeds(first, confidence),
                    "after": _over_seeds(second, confidence),
                    "paired": paired_change([_value(e) for e in first],
                                            [_value(e) for e in second], level=confidence)}

        entry = {"accuracy": row(lambda audit: audit["overall"]["metrics"]["accuracy"]),
                 "group_sets": {}}
        first_audit = before_runs[seeds[0]]
        for name in first_audit["group_sets"]:
            entry["group_sets"][name] = {
                disparity: row(lambda audit, n=name, d=disparity:
                               audit["group_sets"][n]["disparities"][d])
                for disparity in DISPARITIES
            }
        for figures in [entry["accuracy"], *(
                f for group_set in entry["group_sets"].values() for f in group_set.values())]:
            before_mean, after_mean = figures["before"]["mean"], figures["after"]["mean"]
            figures["change"] = (None if before_mean is None or after_mean is None
                                 else after_mean - before_mean)
        table[framework] = entry
    return table


def _value(entry: dict[str, Any]) -> float | None:
    value = entry.get("value")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _over_seeds(entries: list[dict[str, Any]], confidence: float) -> dict[str, Any]:
    values = np.array([v for v in map(_value, entries) if v is not None], dtype=np.float64)
    return {
        "mean": float(values.mean()) if values.size else None,
        "std": float(values.std(ddof=1)) if values.size > 1 else None,
        "seed_ci": mean_interval(values.tolist(), level=confidence),
        "ci_first_seed": entries[0].get("ci") if entries else None,
        "n_seeds": int(values.size),
    }
