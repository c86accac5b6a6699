"""The parity audit: evidence that the twins of every pair of implementations were built and
trained identically.

Three layers, from exact to statistical (docs/architecture.md has the formulas):

1. **arithmetic** (:mod:`twinaudit.audits.proof`) — step-0 outputs, loss gradients, one and
   five optimizer steps, run in float64 (identical settings agree to ~1e-15, the verdict) and
   in float32 (judged against each framework's own float32 rounding, tensor by tensor);
2. **training drift** (:mod:`twinaudit.audits.chaos`) — the twins' divergence per epoch
   against one framework's divergence from itself when started one ulp away;
3. **outcomes** (:mod:`twinaudit.audits.seed_noise`) — accuracy (or reconstruction error)
   per seed, the paired differences' interval and a TOST equivalence verdict at a margin.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from twinaudit.audits.chaos import divergence, envelope, self_drift
from twinaudit.audits.equivalence import margin_for
from twinaudit.audits.proof import prove_pairs, summarise
from twinaudit.audits.seed_noise import compare_frameworks
from twinaudit.engine import Collect, Engine, InProcess
from twinaudit.frameworks import Twin, thread_limit
from twinaudit.frameworks.schedule import Schedule
from twinaudit.frameworks.training import TrainingData
from twinaudit.nets import Network
from twinaudit.spec import ParitySection


def parity_audit(twins: dict[tuple[str, int], Twin], *, network: Network, schedule: Schedule,
                 train: tuple[np.ndarray, np.ndarray, np.ndarray | None],
                 validation: tuple[np.ndarray, np.ndarray],
                 test: tuple[np.ndarray, np.ndarray], frameworks: tuple[str, ...],
                 settings: ParitySection | None = None) -> dict:
    """The whole parity section of results.json.

    Parameters
    ----------
    twins : dict of (framework, seed) to fitted Twin
        Every implementation's twin for every seed.
    train : (X, y, sample_weight or None)
        Exactly what the twins were fitted on (the proof's steps and the envelope use it).
    validation, test : (X, y)
        The validation split the twins early-stopped on, and the test split.
    frameworks : (reference, other, ...)
        The implementations; each pair is audited, in this order. The section is the first
        pair's; with three or more implementations, ``pairs`` holds every further pair's
        section (:func:`parity_section`, each naming its ``frameworks``).
    settings : ParitySection
        Margins, alpha, how many seeds the arithmetic proof runs on (the first ones), and
        whether to draw the chaos envelope.

    For a reconstruction (autoencoder) there is no accuracy: ``accuracy`` and
    ``prediction_agreement`` keep their shape with undefined values, and the twins' mean test
    reconstruction error is compared instead (``reconstruction_error``).
    """
    X, y, sample_weight = train
    return submit_parity_audit(InProcess(), twins, TrainingData(X, y, *validation),
                               sample_weight, test, network=network, schedule=schedule,
                               frameworks=frameworks, settings=settings or ParitySection(),
                               threads=0)()


Pair = tuple[str, str]


def submit_parity_audit(engine: Engine, twins: dict[tuple[str, int], Twin],
                        data: TrainingData, sample_weight: np.ndarray | None,
                        test: tuple[np.ndarray, np.ndarray], *, network: Network,
                        schedule: Schedule, frameworks: tuple[str, ...],
                        settings: ParitySection, threads: int) -> Collect[dict]:
    """:func:`parity_audit` as tasks of ``engine``: one per seed (its proof when it is among
    the proven, its drift and outcomes, for every pair) and the reference's one-ulp
    self-drift, each under the run's thread limit; the returned callable puts them
    together."""
    seeds = sorted({seed for _, seed in twins})
    proven = seeds[:settings.proof_seeds]
    rows = [engine.submit("parity", seed_figures, {fw: twins[(fw, seed)] for fw in frameworks},
                          seed, data, sample_weight, test, proven=seed in proven,
                          network=network, schedule=schedule, frameworks=frameworks,
                          threads=threads)
            for seed in seeds]
    reference = twins[(frameworks[0], seeds[0])]
    drift = engine.submit("parity", reference_drift, reference, data, sample_weight, test[0],
                          threads=threads) if settings.chaos_envelope else None

    def collect() -> dict:
        per_pair = [row() for row in rows]
        itself = None if drift is None else drift()
        first, *others = [
            parity_section([row[pair] for row in per_pair],
                           None if itself is None else envelope(
                               per_pair[0][pair]["divergence"], itself,
                               framework=reference.framework, seed=seeds[0]),
                           network=network, frameworks=pair, settings=settings)
            for pair in combinations(frameworks, 2)]
        return {**first, "pairs": others} if others else first

    return collect


def seed_figures(twins: dict[str, Twin], seed: int, data: TrainingData,
                 sample_weight: np.ndarray | None, test: tuple[np.ndarray, np.ndarray], *,
                 proven: bool, network: Network, schedule: Schedule,
                 frameworks: tuple[str, ...], threads: int) -> dict[Pair, dict[str, Any]]:
    """One seed's row of the parity audit for every pair of implementations: the proof (when
    ``proven``), the twins' drift and their outcomes on the test split."""
    X_test, y_test = test
    pairs = list(combinations(frameworks, 2))
    rows: dict[Pair, dict[str, Any]] = {pair: {"seed": seed} for pair in pairs}
    with thread_limit(frameworks, threads):
        if proven:
            # Dropout off: each framework draws its own masks, so with dropout on the twins
            # would differ by design, not by a bug.
            proofs = prove_pairs(network.without_dropout(), schedule, seed, X_test=X_test,
                                 train=(data.X, data.y, sample_weight), frameworks=frameworks)
            for pair in pairs:
                rows[pair]["proof"] = proofs[pair]
        for reference, other in pairs:
            rows[reference, other]["divergence"] = divergence(twins[reference], twins[other],
                                                              X_test)
        if network.task.is_classifier:
            predictions = {fw: twins[fw].predict(X_test) for fw in frameworks}
            for reference, other in pairs:
                rows[reference, other]["accuracy"] = {
                    fw: float((predictions[fw] == y_test).mean()) for fw in (reference, other)}
                rows[reference, other]["prediction_agreement"] = float(
                    (predictions[reference] == predictions[other]).mean())
        else:
            errors = {fw: float(twins[fw].decision_function(X_test).mean())
                      for fw in frameworks}
            for pair in pairs:
                rows[pair].update({"accuracy": {fw: None for fw in pair},
                                   "prediction_agreement": None,
                                   "reconstruction_error": {fw: errors[fw] for fw in pair}})
    return rows


def reference_drift(reference: Twin, data: TrainingData, sample_weight: np.ndarray | None,
                    X_test: np.ndarray, *, threads: int) -> list[dict]:
    """The first seed's reference twin retrained one ulp away: the chaos envelope's scale
    (see :mod:`twinaudit.audits.chaos`)."""
    with thread_limit((reference.framework,), threads):
        return self_drift(reference, train=(data.X, data.y, sample_weight),
                          validation=(data.X_validation, data.y_validation), X_test=X_test)


def parity_section(per_seed: list[dict[str, Any]], chaos: dict | None, *, network: Network,
                   frameworks: Pair, settings: ParitySection) -> dict:
    """One pair's parity section from its seeds' rows and the chaos envelope."""
    reference, _ = frameworks

    def compare(key: str, family: str) -> dict[str, Any]:
        values = {fw: [row[key][fw] for row in per_seed] for fw in frameworks}
        margin = margin_for(family, settings.margins_with_defaults, values[reference])
        return compare_frameworks(values, frameworks, margin=margin, alpha=settings.alpha)

    agreement = [row["prediction_agreement"] for row in per_seed
                 if row["prediction_agreement"] is not None]
    proof = summarise([row["proof"] for row in per_seed if "proof" in row])
    section: dict[str, Any] = {
        "frameworks": list(frameworks),
        "proof": proof,
        "chaos": chaos,
        "accuracy": compare("accuracy", "accuracy"),
        "prediction_agreement": {"mean": float(np.mean(agreement)) if agreement else None,
                                 "min": float(np.min(agreement)) if agreement else None},
        "dropout_disabled": network.has_dropout,
        "per_seed": per_seed,
    }
    outcome = "accuracy"
    if not network.task.is_classifier:
        section["reconstruction_error"] = compare("reconstruction_error",
                                                  "reconstruction_error")
        outcome = "reconstruction_error"
    section["verdict"] = verdict(proof, section["chaos"], section[outcome], outcome)
    return section


def verdict(proof: dict, chaos: dict | None, outcome: dict, name: str) -> dict[str, Any]:
    """The parity verdict in words: the proof, the envelope and the outcome's equivalence.

    The twins fail parity when the arithmetic proof fails, when their drift leaves the chaos
    envelope, or when the outcome is shown *different*; an *undecided* outcome is said as
    such (with the seeds it needs) and does not fail: it is no evidence of a difference.
    """
    passed = (proof["passed"] and (chaos is None or chaos["inside"])
              and outcome["verdict"] != "different")
    words = [proof["text"]] + ([chaos["text"]] if chaos else []) + \
        [f"{name.replace('_', ' ')} {outcome['text']}"]
    return {"passed": passed, "outcome": outcome["verdict"],
            "text": ("PASS: " if passed else "FAIL: ") + "; ".join(
                text.removeprefix("FAIL: ") for text in words)}
