"""The parity audit: evidence that the two twins were built and trained identically.

Three levels, from exact to statistical:
1. step 0 — both twins hold the same numpy-drawn weights, so their outputs on the test set
   (logits, or an autoencoder's reconstructions) must agree to float32 rounding (max |Δ|);
2. one step — after exactly one optimizer step on the same batch with the same weights, the
   parameters must agree to float32 rounding (max relative difference per tensor);
3. training — later, float rounding grows chaotically, so the twins' divergence per epoch is
   recorded and their final accuracy gap is judged against the seed-to-seed spread.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twinaudit.audits.seed_noise import compare_frameworks
from twinaudit.families import STEP0_TOLERANCE
from twinaudit.frameworks import Twin, twin_class
from twinaudit.frameworks.schedule import Schedule, batch_order, batch_weights
from twinaudit.nets import Network

ONE_STEP_TOLERANCE = 1e-6
#: A pair of framework names: (reference, other).
Pair = tuple[str, str]


def max_relative_difference(reference: dict[str, np.ndarray],
                            other: dict[str, np.ndarray]) -> dict[str, float]:
    """Per tensor, max |a − b| / max |a|: float rounding relative to the tensor's scale.

    Scaling by the tensor's largest entry rather than element-wise keeps entries that are
    (nearly) zero — a fresh bias — from turning rounding noise into huge ratios.
    """
    differences = {}
    for name, value in reference.items():
        scale = max(float(np.abs(value).max()), np.finfo(np.float32).tiny)
        differences[name] = float(np.abs(value - other[name]).max() / scale)
    return differences


def step0_difference(network: Network, seed: int, X: np.ndarray, frameworks: Pair) -> float:
    """Max |Δ output| (logits or reconstruction) between freshly initialised twins on ``X``."""
    logits = [twin_class(fw)(network, random_state=seed).initialize().forward(X)
              for fw in frameworks]
    return float(np.abs(logits[0] - logits[1]).max())


def one_step_difference(network: Network, schedule: Schedule, seed: int, X: np.ndarray,
                        y: np.ndarray, sample_weight: np.ndarray,
                        frameworks: Pair) -> dict[str, float]:
    """Per-tensor max relative parameter difference after one step on epoch 0's first batch.

    Dropout is switched off for this check: each framework draws its own masks, so with
    dropout on the step would differ by design, not by a bug.
    """
    rows = batch_order(seed, 0, len(y), schedule.batch_size)[0]
    weights = batch_weights(sample_weight[rows])
    after = []
    for framework in frameworks:
        twin = twin_class(framework)(network.without_dropout(), schedule, random_state=seed)
        twin.initialize().train_step(X[rows], y[rows], weights)
        after.append(twin.get_weights())
    return max_relative_difference(after[0], after[1])


def divergence(reference_twin: Twin, other_twin: Twin, X: np.ndarray) -> list[dict]:
    """Per epoch both twins completed: relative parameter distance and logit distance on X."""
    probes = [type(twin)(reference_twin.network, random_state=0).initialize()
              for twin in (reference_twin, other_twin)]
    curve = []
    # strict=False on purpose: the twins may have completed different numbers of epochs; the
    # curve covers the epochs both completed.
    pairs = zip(reference_twin.history_["snapshots"], other_twin.history_["snapshots"],
                strict=False)
    for epoch, (reference_weights, other_weights) in enumerate(pairs):
        reference_flat = np.concatenate([v.ravel() for v in reference_weights.values()])
        other_flat = np.concatenate([other_weights[k].ravel() for k in reference_weights])
        probes[0].set_weights(reference_weights)
        probes[1].set_weights(other_weights)
        gap = np.abs(probes[0].forward(X) - probes[1].forward(X))
        curve.append({
            "epoch": epoch,
            "parameter_distance": float(np.linalg.norm(reference_flat - other_flat)
                                        / np.linalg.norm(reference_flat)),
            "max_abs_logit_diff": float(gap.max()),
            "mean_abs_logit_diff": float(gap.mean()),
        })
    return curve


def parity_audit(twins: dict[tuple[str, int], Twin], *, network: Network, schedule: Schedule,
                 train: tuple[np.ndarray, np.ndarray, np.ndarray],
                 test: tuple[np.ndarray, np.ndarray], frameworks: Pair,
                 step0_tolerance: float = STEP0_TOLERANCE) -> dict:
    """The whole parity section of results.json.

    Parameters
    ----------
    twins : dict of (framework, seed) to fitted Twin
        Both frameworks of the pair for every seed.
    frameworks : (reference, other)
        The two frameworks compared.
    step0_tolerance : float
        The network family's step-0 tolerance (looser for recurrent networks).
    train : (X, y, sample_weight)
        The training data the twins were fitted on (for the one-step check).
    test : (X, y)

    For a reconstruction (autoencoder) there is no accuracy: ``accuracy`` and
    ``prediction_agreement`` keep their shape with undefined (None) values, and the twins'
    mean test reconstruction error is compared instead (``reconstruction_error``).
    """
    X_test, y_test = test
    seeds = sorted({seed for _, seed in twins})
    per_seed: list[dict[str, Any]] = []
    reference, other = frameworks
    for seed in seeds:
        one_step = one_step_difference(network, schedule, seed, *train, frameworks)
        row: dict[str, Any] = {
            "seed": seed,
            "step0_max_abs_logit_diff": step0_difference(network, seed, X_test, frameworks),
            "one_step_max_rel_param_diff": max(one_step.values()),
            "one_step_per_parameter": one_step,
            "divergence": divergence(twins[(reference, seed)], twins[(other, seed)], X_test),
        }
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
    step0 = max(row["step0_max_abs_logit_diff"] for row in per_seed)
    one_step = max(row["one_step_max_rel_param_diff"] for row in per_seed)
    agreement = [row["prediction_agreement"] for row in per_seed
                 if row["prediction_agreement"] is not None]
    section = {
        "step0": {"max_abs_logit_diff": step0, "tolerance": step0_tolerance,
                  "passed": step0 <= step0_tolerance},
        "one_step": {"max_rel_param_diff": one_step, "tolerance": ONE_STEP_TOLERANCE,
                     "passed": one_step <= ONE_STEP_TOLERANCE,
                     "dropout_disabled": network.has_dropout},
        "accuracy": compare_frameworks({fw: [row["accuracy"][fw] for row in per_seed]
                                        for fw in frameworks}, frameworks),
        "prediction_agreement": {"mean": float(np.mean(agreement)) if agreement else None,
                                 "min": float(np.min(agreement)) if agreement else None},
        "per_seed": per_seed,
    }
    if not network.task.is_classifier:
        section["reconstruction_error"] = compare_frameworks(
            {fw: [row["reconstruction_error"][fw] for row in per_seed]
             for fw in frameworks}, frameworks)
    return section
