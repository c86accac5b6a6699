"""The twin-vs-twin rule: is a gap between frameworks larger than the seed-to-seed spread?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def compare_frameworks(values: Mapping[str, Sequence[float | None]],
                       frameworks: tuple[str, str], *,
                       noise_multiplier: float = 2.0) -> dict:
    """Per framework, mean and seed spread of one figure; the framework gap judged against it.

    The frameworks agree *within seed noise* when ``|mean(first) − mean(second)| <=
    noise_multiplier × pooled seed standard deviation`` (the two-sample t-test's pooled
    standard deviation of the per-seed values). The gap is thus compared with how much one
    framework moves when only the seed changes. Undefined values (None or NaN) are left out;
    fewer than two seeds in a framework gives a verdict of None with a reason, never a yes.

    Returns
    -------
    dict
        ``{"by_framework": {framework: {"values", "mean", "std", "min", "max", "n_seeds"}},
        "difference", "pooled_seed_std", "threshold", "within_seed_noise", "reason"}``.
    """
    by_framework: dict[str, dict[str, Any]] = {}
    for framework in frameworks:
        defined = np.array([v for v in values[framework] if v is not None and not np.isnan(v)],
                           dtype=np.float64)
        by_framework[framework] = {
            "values": defined.tolist(),
            "mean": float(defined.mean()) if defined.size else None,
            "std": float(defined.std(ddof=1)) if defined.size > 1 else None,
            "min": float(defined.min()) if defined.size else None,
            "max": float(defined.max()) if defined.size else None,
            "n_seeds": int(defined.size),
        }
    first, second = (by_framework[framework] for framework in frameworks)
    entry: dict[str, Any] = {"by_framework": by_framework, "difference": None,
                             "pooled_seed_std": None, "threshold": None,
                             "within_seed_noise": None, "reason": None}
    if first["mean"] is not None and second["mean"] is not None:
        entry["difference"] = first["mean"] - second["mean"]
    if first["n_seeds"] < 2 or second["n_seeds"] < 2:
        entry["reason"] = "needs the value from at least two seeds in each framework"
        return entry
    degrees = first["n_seeds"] + second["n_seeds"] - 2
    pooled = float(np.sqrt(((first["n_seeds"] - 1) * first["std"] ** 2
                            + (second["n_seeds"] - 1) * second["std"] ** 2) / degrees))
    entry.update(pooled_seed_std=pooled, threshold=noise_multiplier * pooled,
                 within_seed_noise=bool(abs(entry["difference"]) <= noise_multiplier * pooled))
    return entry
