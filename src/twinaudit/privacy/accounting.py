"""The privacy budget of DP-SGD, from Google's dp-accounting library (never a formula of ours).

Training is ``steps`` compositions of the Poisson-subsampled Gaussian mechanism
(:class:`dp_accounting.PoissonSampledDpEvent` of a :class:`dp_accounting.GaussianDpEvent`),
which is how :mod:`twinaudit.privacy.dp_sgd` samples its batches. The noise multiplier of a
target ε is calibrated with the Rényi-DP accountant (``calibrate_dp_mechanism``: the smallest
σ whose ε at δ is at most the target; the accountant TensorFlow Privacy and Opacus report
by default); the spent ε is reported by RDP and, tighter, by the privacy-loss-distribution
(PLD) accountant. Neighbouring data sets differ by adding or removing one row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def _quiet() -> Iterator[None]:
    """dp-accounting logs (through absl) each RDP order it drops as not converging: its
    bookkeeping, not ours to print on every run."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _event(noise_multiplier: float, sampling_rate: float, steps: int):
    import dp_accounting

    return dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(
            sampling_rate, dp_accounting.GaussianDpEvent(noise_multiplier)), steps)


def epsilon_spent(noise_multiplier: float, sampling_rate: float, steps: int, delta: float,
                  accountant: str = "rdp") -> float:
    """ε at ``delta`` of ``steps`` Poisson-sampled Gaussian steps, by the ``accountant``
    ("rdp" or "pld")."""
    from dp_accounting import pld, rdp

    fresh = rdp.RdpAccountant() if accountant == "rdp" else pld.PLDAccountant()
    with _quiet():
        fresh.compose(_event(noise_multiplier, sampling_rate, steps))
        return float(fresh.get_epsilon(delta))


def noise_for_budget(epsilon: float, delta: float, sampling_rate: float,
                     steps: int) -> float:
    """The noise multiplier σ whose RDP ε at ``delta`` is (just) at most ``epsilon``."""
    import dp_accounting
    from dp_accounting import rdp

    with _quiet():
        return float(dp_accounting.calibrate_dp_mechanism(
            rdp.RdpAccountant, lambda sigma: _event(sigma, sampling_rate, steps), epsilon,
            delta))


def budget(epsilon: float, delta: float, *, n_rows: int, batch_size: int,
           epochs: int) -> dict[str, Any]:
    """The noise multiplier of a target budget and what the accountants say it spends."""
    from twinaudit.privacy.dp_sgd import sampling_rate, steps_per_epoch

    rate = sampling_rate(n_rows, batch_size)
    steps = epochs * steps_per_epoch(n_rows, batch_size)
    sigma = noise_for_budget(epsilon, delta, rate, steps)
    return {"target_epsilon": epsilon, "delta": delta, "noise_multiplier": sigma,
            "sampling": "poisson", "sampling_rate": rate, "steps": steps, "epochs": epochs,
            "expected_batch_size": batch_size, "accountant": "dp-accounting RDP (calibration)",
            "epsilon": {"rdp": epsilon_spent(sigma, rate, steps, delta, "rdp"),
                        "pld": epsilon_spent(sigma, rate, steps, delta, "pld")}}
