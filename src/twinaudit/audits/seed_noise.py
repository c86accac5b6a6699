"""The twin-vs-twin rule: are two frameworks' values of one metric equivalent over the seeds?

The twins share seeds, so the values of seed ``s`` form a pair and the question is answered
on the paired differences (:func:`twinaudit.audits.equivalence.paired_equivalence`): their
mean with a (1 − 2α) confidence interval and a TOST equivalence verdict at the metric
family's margin — "equivalent within ±m", "undecided (n more seeds needed)" or "different".
Each framework's seed-to-seed spread is reported with its own interval beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from twinaudit.audits.equivalence import paired_equivalence, seed_spread


def compare_frameworks(values: Mapping[str, Sequence[float | None]],
                       frameworks: tuple[str, str], *, margin: float,
                       alpha: float = 0.05) -> dict[str, Any]:
    """Per framework, the seed spread of one figure; between them, the paired verdict.

    Parameters
    ----------
    values : mapping of framework to per-seed values
        Both lists in the same seed order (pairs: seed ``s`` of each framework). Undefined
        values (None or NaN) drop their pair.
    margin : float
        The equivalence margin, in the metric's units.

    Returns
    -------
    dict
        ``{"by_framework": {framework: {"values", "mean", "sd", "sd_interval", "min", "max",
        "n_seeds", ...}}, "difference", "paired", "verdict", "text"}``: ``paired`` is
        :func:`paired_equivalence`'s result, ``verdict`` and ``text`` are its verdict and
        sentence, ``difference`` the mean paired difference (first − second).
    """
    by_framework: dict[str, dict[str, Any]] = {}
    for framework in frameworks:
        spread = seed_spread(values[framework], level=1 - 2 * alpha)
        defined = np.asarray(spread["values"], dtype=np.float64)
        by_framework[framework] = {**spread,
                                   "min": float(defined.min()) if defined.size else None,
                                   "max": float(defined.max()) if defined.size else None}
    paired = paired_equivalence(values[frameworks[0]], values[frameworks[1]], margin=margin,
                                alpha=alpha)
    return {"by_framework": by_framework, "difference": paired["mean"], "paired": paired,
            "verdict": paired["verdict"], "text": paired["text"]}
