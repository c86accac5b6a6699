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
from twinaudit.frameworks import Twin, thread_limit
from twinaudit.frameworks.schedule import Schedule
from twinaudit.frameworks.training import TrainingData
from twinaudit.nets import Network
from twinaudit.spec import ParitySection


def parity_task(twins: dict[tuple[str, int], Twin], data: TrainingData,
                sample_weight: np.ndarray | None, test: tuple[np.ndarray, np.ndarray], *,
                frameworks: tuple[str, str], threads: int, **settings: Any) -> dict:
    """:func:`parity_audit` as the engine runs it: from the shared training data, under the
    run's thread limit."""
    with thread_limit(frameworks, threads):
        return parity_audit(twins, train=(data.X, data.y, sample_weight),
                            validation=(data.X_validation, data.y_validation), test=test,
                            frameworks=frameworks, **settings)


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
    settings = settings or ParitySection()
    X_test, y_test = test
    seeds = sorted({seed for _, seed in twins})
    reference, other = frameworks
    proven = seeds[:settings.proof_seeds]
    per_seed: list[dict[str, Any]] = []
    for seed in seeds:
        row: dict[str, Any] = {"seed": seed}
        if seed in proven:
            # Dropout off: each framework draws its own masks, so with dropout on the twins
            # would differ by design, not by a bug.
            row["proof"] = prove(network.without_dropout(), schedule, seed, X_test=X_test,
                                 train=train, frameworks=frameworks)
        row["divergence"] = divergence(twins[(reference, seed)], twins[(other, seed)], X_test)
        if network.task.is_classifier:
            predictions = {fw: twins[(fw, seed)].predict(X_test) for fw in frameworks}
            row["accuracy"] = {fw: float((p == y_test).mean()) for fw, p in predictions.items()}
            row["prediction_agreement"] = float(
                (predictions[reference] == predictions[other]).mean())
        else:
            row["accuracy"] = {fw: None for fw in frameworks}
            row["prediction_agreement"] = None
            row["reconstruction_error"] = {
                fw: float(twins[(fw, seed)].decision_function(X_test).mean())
                for fw in frameworks}
        per_seed.append(row)

    def compare(key: str, family: str) -> dict[str, Any]:
        values = {fw: [row[key][fw] for row in per_seed] for fw in frameworks}
        margin = margin_for(family, settings.margins_with_defaults, values[reference])
        return compare_frameworks(values, frameworks, margin=margin, alpha=settings.alpha)

    agreement = [row["prediction_agreement"] for row in per_seed
                 if row["prediction_agreement"] is not None]
    proof = summarise([row["proof"] for row in per_seed if "proof" in row])
    section: dict[str, Any] = {
        "proof": proof,
        "chaos": chaos_envelope(twins[(reference, seeds[0])], twins[(other, seeds[0])],
                                train=train, validation=validation, X_test=X_test)
        if settings.chaos_envelope else None,
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
