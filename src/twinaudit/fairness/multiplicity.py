"""Is a disparity more than noise, once the run's many comparisons are counted?

A run audits several group sets × disparities × twins (and mitigation variants): dozens of
comparisons, so a few look "significant" at 5 % by chance alone. Each disparity of an audit
carries the p-value of a test that its groups' driving rates are equal
(:func:`homogeneity_p_value`); :func:`flag_run` adjusts all of a run's p-values together
(:func:`adjust`: Holm's step-down, which controls the family-wise error rate, or
Benjamini–Hochberg, which controls the false discovery rate) and flags the disparities whose
adjusted p-value is under ``alpha`` as ``nonzero``.

What counts as one comparison: one test, i.e. one (variant, framework, seed, group set,
tested rates). The ``_difference`` and ``_ratio`` of a rate, and fairlearn's and the
``_defined`` variant, test the same hypothesis and share their p-value, so they count once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from twinaudit.vocabulary import MULTIPLICITY as MULTIPLICITY_METHODS


def homogeneity_p_value(tables: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """p-value of "the rate is the same in every group": Pearson's chi-square test.

    Each table is ``(successes, trials)`` per group, the groups × {success, failure} table of
    one rate, in effective counts when weighted (Kish). Groups without trials (rate undefined)
    are left out. Several tables (equalized odds: the TPR among positives and the FPR among
    negatives) are disjoint sets of rows, so their statistics and degrees of freedom add.

    Returns
    -------
    float
        NaN where no table has two groups with trials; 1 where a rate is 0 or 1 everywhere.
    """
    statistic, degrees = 0.0, 0
    for successes, trials in tables:
        defined = np.asarray(trials) > 0
        hits, n = np.asarray(successes, float)[defined], np.asarray(trials, float)[defined]
        if len(n) < 2:
            continue
        degrees += len(n) - 1
        pooled = hits.sum() / n.sum()
        if 0 < pooled < 1:
            expected = n * pooled
            statistic += float(((hits - expected) ** 2 / (expected * (1 - pooled))).sum())
    if degrees == 0:
        return float("nan")
    return float(stats.chi2.sf(statistic, degrees))


def adjust(p_values: Sequence[float] | np.ndarray, method: str) -> np.ndarray:
    """Multiplicity-adjusted p-values, in the input order; NaN stays NaN and is not counted.

    Parameters
    ----------
    p_values : sequence of float
    method : {"holm", "benjamini_hochberg", "none"}
        Holm: the i-th smallest of m is multiplied by (m − i + 1), then made non-decreasing.
        Benjamini–Hochberg: multiplied by m / i, then made non-increasing from the largest.
        Both are capped at 1.
    """
    if method not in MULTIPLICITY_METHODS:
        raise ValueError(f"multiplicity method must be one of {', '.join(MULTIPLICITY_METHODS)};"
                         f" got {method!r}")
    values = np.asarray(p_values, float)
    result = values.copy()
    defined = np.flatnonzero(~np.isnan(values))
    if method == "none" or not len(defined):
        return result
    order = defined[np.argsort(values[defined], kind="stable")]
    m = len(order)
    rank = np.arange(1, m + 1)
    if method == "holm":
        adjusted = np.maximum.accumulate((m - rank + 1) * values[order])
    else:
        adjusted = np.minimum.accumulate((m / rank * values[order])[::-1])[::-1]
    result[order] = np.minimum(adjusted, 1.0)
    return result


def flag_run(
    fairness_by_variant: Mapping[str, Mapping[str, Any]], method: str, alpha: float = 0.05,
) -> dict[str, Any]:
    """Adjust every disparity p-value of a run together, and flag the ``nonzero`` ones.

    Parameters
    ----------
    fairness_by_variant : mapping of str to dict
        One :func:`twinaudit.fairness.by_twin.fairness_by_twin` result per variant (say the
        unmitigated models and each mitigation), all adjusted as one family.
    method : {"holm", "benjamini_hochberg", "none"}
    alpha : float, default 0.05

    Returns
    -------
    dict
        ``{"method", "alpha", "comparisons", "flagged"}``: the number of tests and of tests
        under ``alpha`` after adjustment. In place, every disparity with a ``p_value`` gains
        ``p_adjusted`` and ``nonzero`` (``None`` where untested), and every variant's result
        gains this summary as ``multiplicity``.
    """
    adjust([], method)  # rejects an unknown method before anything is written
    tests: dict[tuple[Any, ...], float] = {}
    entries: list[tuple[tuple[Any, ...] | None, dict[str, Any]]] = []
    for variant, result in fairness_by_variant.items():
        for framework, seeds in result.get("twins", {}).items():
            for seed, audit in seeds.items():
                for set_name, group_set in audit.get("group_sets", {}).items():
                    for entry in group_set.get("disparities", {}).values():
                        if "p_value" not in entry:
                            continue  # the four-fifths flag: no test of its own
                        key = None
                        if entry["p_value"] is not None:
                            key = (variant, framework, seed, set_name,
                                   tuple(entry.get("tested_rates") or ()))
                            tests[key] = entry["p_value"]
                        entries.append((key, entry))
    keys = list(tests)
    adjusted = dict(zip(keys, adjust([tests[key] for key in keys], method), strict=True))
    for key, entry in entries:
        value = None if key is None else float(adjusted[key])
        entry["p_adjusted"] = value
        entry["nonzero"] = None if value is None else bool(value < alpha)
    summary = {"method": method, "alpha": float(alpha), "comparisons": len(keys),
               "flagged": int(sum(value < alpha for value in adjusted.values()))}
    for result in fairness_by_variant.values():
        if isinstance(result, dict):
            result["multiplicity"] = dict(summary)
    return summary
