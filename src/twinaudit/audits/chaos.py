"""The chaos envelope: how far training drifts apart on float rounding alone.

After the first steps, float rounding grows chaotically: two runs of *one* framework whose
initial weights differ by one float32 ulp drift apart over the epochs as far as the twins
do, with no difference in settings at all. The envelope is that self-divergence, measured for
the reference framework on one seed, in relative parameter distance ``‖p_a − p_b‖ / ‖p_a‖``.

The growth comes in jumps (a ReLU unit's sign flipping on some row, an Adam denominator near
ε), and their epochs are luck: the twins' curve and the self-curve of the same run jumped
at epochs 1 and 3 on Adult. So the twins' drift is judged at the two points where timing does
not matter, each within :data:`ENVELOPE_MULTIPLE` of the self-drift:

* **early** — after the first epoch, before jumps have had their chance (a learning rate 1 %
  off is ~100× the one-ulp drift there);
* **late** — the largest distance over training: the twins may end no further apart than
  chaos takes one framework from itself.

The per-epoch curves are reported (and plotted on one chart) for a reader to see the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from twinaudit.frameworks import Twin
from twinaudit.nets import initial_weights

#: How many times the one-ulp self-divergence the twins' divergence may reach, early and late.
#: Two curves of float chaos differ by a few times either way there; a difference in
#: settings shows as orders of magnitude.
ENVELOPE_MULTIPLE = 10.0


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


def one_ulp_away(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every entry moved to the next representable float towards +inf."""
    return {name: np.nextafter(value, np.array(np.inf, dtype=value.dtype))
            for name, value in weights.items()}


def self_drift(reference: Twin, *, train: tuple[np.ndarray, np.ndarray, np.ndarray | None],
               validation: tuple[np.ndarray, np.ndarray], X_test: np.ndarray) -> list[dict]:
    """Retrain ``reference`` from weights one ulp away: its :func:`divergence` from itself.

    ``train`` and ``validation`` are exactly what ``reference`` was fitted on, so the only
    difference is the ulp.
    """
    assert reference.network is not None, "the twin has no network"
    shifted = clone(reference)
    X, y, sample_weight = train
    shifted.fit(X, y, sample_weight, validation=validation,
                initial=one_ulp_away(initial_weights(reference.network,
                                                     reference.random_state)))
    return divergence(reference, shifted, X_test)


def chaos_envelope(reference: Twin, other: Twin, *, train: tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray | None],
                   validation: tuple[np.ndarray, np.ndarray], X_test: np.ndarray) -> dict:
    """The envelope of one seed's fitted twins (reference framework first): their divergence
    against the reference's :func:`self_drift`."""
    return envelope(divergence(reference, other, X_test),
                    self_drift(reference, train=train, validation=validation, X_test=X_test),
                    framework=reference.framework, seed=reference.random_state)


def envelope(twins: list[dict], itself: list[dict], *, framework: str, seed: int) -> dict:
    """Judge the twins' per-epoch :func:`divergence` against one framework's self-drift.

    The self-drift is a scale of float chaos on this network and data, so one measured curve
    (the reference framework's, first seed) judges every pair of a run's implementations.
    """
    epochs: list[dict[str, Any]] = []
    for cross, own in zip(twins, itself, strict=False):
        epochs.append({"epoch": cross["epoch"],
                       "twins_parameter_distance": cross["parameter_distance"],
                       "self_parameter_distance": own["parameter_distance"],
                       "twins_max_abs_logit_diff": cross["max_abs_logit_diff"],
                       "self_max_abs_logit_diff": own["max_abs_logit_diff"],
                       "ratio": _ratio(cross["parameter_distance"], own["parameter_distance"])})
    early = epochs[0]["ratio"] if epochs else None
    late = _ratio(max((row["twins_parameter_distance"] for row in epochs), default=0.0),
                  max((row["self_parameter_distance"] for row in epochs), default=0.0)) \
        if epochs else None
    inside = early is not None and late is not None and \
        max(early, late) <= ENVELOPE_MULTIPLE
    if early is None or late is None:
        text = "no epochs to compare with the chaos envelope"
    else:
        text = (f"{'inside' if inside else 'outside'} the chaos envelope (twins' drift "
                f"{early:.2g}× one framework's own one-ulp drift after the first epoch, "
                f"{late:.2g}× at its largest; limit {ENVELOPE_MULTIPLE:g}×)")
    return {"framework": framework, "seed": seed,
            "perturbation": "initial weights one float32 ulp up",
            "multiple": ENVELOPE_MULTIPLE, "early_ratio": early, "late_ratio": late,
            "max_ratio": None if early is None or late is None else max(early, late),
            "inside": inside, "text": text, "epochs": epochs}


def _ratio(twins: float, itself: float) -> float:
    return twins / max(itself, np.finfo(np.float64).tiny)
