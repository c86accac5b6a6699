"""The parity audit: evidence that the two twins were built and trained identically.

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

from typing import Any

import numpy as np

from twinaudit.audits.chaos import chaos_envelope, divergence
from twinaudit.audits.equivalence import margin_for
from twinaudit.audits.proof import prove, summarise
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
                 test: tuple[np.ndarray, np.ndarray], frameworks: tuple[str, str],
                 settings: ParitySection | None = None) -> dict:
    """The whole parity section of results.json.

    Parameters
    ----------
    twins : dict of (framework, seed) to fitted Twin
        Both frameworks of the pair for every seed.
    train : (X, y, sample_weight or None)
        Exactly what the twins were fitted on (the proof's steps and the envelope use it).
    validation, test : (X, y)
        The validation split the twins early-stopped on, and the test split.
    frameworks : (reference, other)
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


def submit_parity_audit(engine: Engine, twins: dict[tuple[str, int], Twin],
                        data: TrainingData, sample_weight: np.ndarray | None,
                        test: tuple[np.ndarray, np.ndarray], *, network: Network,
                        schedule: Schedule, frameworks: tuple[str, str],
                        settings: ParitySection, threads: int) -> Collect[dict]:
    """:func:`parity_audit` as tasks of ``engine``: one per seed (its proof when it is among
    the proven, its drift and outcomes) and the chaos envelope, each under the run's thread
    limit; the returned callable puts them together."""
    seeds = sorted({seed for _, seed in twins})
    reference, other = frameworks
    proven = seeds[:settings.proof_seeds]
    rows = [engine.submit("parity", seed_figures, {fw: twins[(fw, seed)] for fw in frameworks},
                          seed, data, sample_weight, test, proven=seed in proven,
                          network=network, schedule=schedule, frameworks=frameworks,
                          threads=threads)
            for seed in seeds]
    chaos = engine.submit("parity", envelope, twins[(reference, seeds[0])],
                          twins[(other, seeds[0])], data, sample_weight, test[0],
                          frameworks=frameworks, threads=threads) \
        if settings.chaos_envelope else None
    return lambda: parity_section([row() for row in rows], None if chaos is None else chaos(),
                                  network=network, frameworks=frameworks, settings=settings)


def seed_figures(twins: dict[str, Twin], seed: int, data: TrainingData,
                 sample_weight: np.ndarray | None, test: tuple[np.ndarray, np.ndarray], *,
                 proven: bool, network: Network, schedule: Schedule,
                 frameworks: tuple[str, str], threads: int) -> dict[str, Any]:
    """One seed's row of the parity audit: the proof (when ``proven``), the twins' drift and
    their outcomes on the test split."""
    X_test, y_test = test
    reference, other = frameworks
    row: dict[str, Any] = {"seed": seed}
    with thread_limit(frameworks, threads):
        if proven:
            # Dropout off: each framework draws its own masks, so with dropout on the twins
            # would differ by design, not by a bug.
            row["proof"] = prove(network.without_dropout(), schedule, seed, X_test=X_test,
                                 train=(data.X, data.y, sample_weight),
                                 frameworks=frameworks)
        row["divergence"] = divergence(twins[reference], twins[other], X_test)
        if network.task.is_classifier:
            predictions = {fw: twins[fw].predict(X_test) for fw in frameworks}
            row["accuracy"] = {fw: float((p == y_test).mean())
                               for fw, p in predictions.items()}
            row["prediction_agreement"] = float(
                (predictions[reference] == predictions[other]).mean())
        else:
            row["accuracy"] = {fw: None for fw in frameworks}
            row["prediction_agreement"] = None
            row["reconstruction_error"] = {
                fw: float(twins[fw].decision_function(X_test).mean()) for fw in frameworks}
    return row


def envelope(reference: Twin, other: Twin, data: TrainingData,
             sample_weight: np.ndarray | None, X_test: np.ndarray, *,
             frameworks: tuple[str, str], threads: int) -> dict:
    """The chaos envelope of the first seed's pair (see :mod:`twinaudit.audits.chaos`)."""
    with thread_limit(frameworks, threads):
        return chaos_envelope(reference, other, train=(data.X, data.y, sample_weight),
                              validation=(data.X_validation, data.y_validation),
                              X_test=X_test)


def parity_section(per_seed: list[dict[str, Any]], chaos: dict | None, *, network: Network,
                   frameworks: tuple[str, str], settings: ParitySection) -> dict:
    """The parity section from its seeds' rows and the chaos envelope."""
    reference, _ = frameworks

    def compare(key: str, family: str) -> dict[str, Any]:
        values = {fw: [row[key][fw] for row in per_seed] for fw in frameworks}
        margin = margin_for(family, settings.margins_with_defaults, values[reference])
        return compare_frameworks(values, frameworks, margin=margin, alpha=settings.alpha)

    agreement = [row["prediction_agreement"] for row in per_seed
                 if row["prediction_agreement"] is not None]
    proof = summarise([row["proof"] for row in per_seed if "proof" in row])
    section: dict[str, Any] = {
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
