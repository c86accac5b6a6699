"""Timing bounds (``max_ratio``): a bootstrap interval for the ratio of median timings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from twinaudit.gate.checks import Check, _check, _describe_bounds, _missing
from twinaudit.gate.errors import Verdict
from twinaudit.gate.paths import Match, _format_value, _kind_of
from twinaudit.gate.rules import Rule, _is_number


def bootstrap_ratio_of_medians(
    samples: Sequence[float],
    reference_samples: Sequence[float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval for ``median(samples) / median(reference_samples)``.

    Each side is resampled independently (the runs are not paired). The seed is fixed so the
    same inputs always give the same verdict.

    Returns
    -------
    estimate, low, high : float
    """
    generator = np.random.default_rng(seed)
    current = np.asarray(samples, dtype=float)
    reference = np.asarray(reference_samples, dtype=float)
    # (n_resamples, n) index matrices: every resample's median in one vectorised call.
    current_medians = np.median(
        current[generator.integers(0, current.size, (n_resamples, current.size))], axis=1
    )
    reference_medians = np.median(
        reference[generator.integers(0, reference.size, (n_resamples, reference.size))], axis=1
    )
    ratios = current_medians / reference_medians
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    estimate = float(np.median(current) / np.median(reference))
    return estimate, float(low), float(high)


def _judge_timing(rule: Rule, path: str, current: Match, previous: Match | None) -> Check:
    assert rule.max_ratio is not None
    if rule.reference_sibling is not None:
        parent = current.parent
        if not isinstance(parent, Mapping) or rule.reference_sibling not in parent:
            message = f"sibling {rule.reference_sibling!r} is missing from results"
            return _missing(rule, path, message)
        reference = parent[rule.reference_sibling]
    else:
        reference = previous.value if previous is not None else None
    expected = _describe_bounds(rule)
    for label, candidate in (("samples", current.value), ("reference samples", reference)):
        if not _is_sample_list(candidate):
            message = (
                f"{label} must be a list of positive finite timings, found {_kind_of(candidate)}"
            )
            return _check(rule, path, Verdict.FAIL, expected=expected, message=message)
    if min(len(current.value), len(reference)) < rule.min_samples:
        message = (
            f"too few samples to judge (n={len(current.value)} vs {len(reference)}; "
            f"need {rule.min_samples} each)"
        )
        return _check(rule, path, Verdict.INCONCLUSIVE, expected=expected, message=message)
    estimate, low, high = bootstrap_ratio_of_medians(
        current.value, reference, confidence=rule.confidence, n_resamples=rule.n_resamples
    )
    verdict, reading = _timing_verdict(low, high, rule.max_ratio)
    interval = f"ratio {estimate:.3g}, {rule.confidence:.0%} CI [{low:.3g}, {high:.3g}]"
    message = f"{interval} {reading}"
    return _check(rule, path, verdict, value=estimate, expected=expected, message=message)


def _timing_verdict(low: float, high: float, limit: float) -> tuple[Verdict, str]:
    if high <= limit:
        return Verdict.PASS, f"lies under {_format_value(limit)}"
    if low > limit:
        return Verdict.FAIL, f"lies above {_format_value(limit)}"
    return Verdict.INCONCLUSIVE, f"straddles {_format_value(limit)}; more samples needed"


def _is_sample_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        _is_number(sample) and math.isfinite(sample) and sample > 0 for sample in value
    )
