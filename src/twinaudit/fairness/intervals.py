"""Confidence intervals of the fairness audit: binomial ones for rates, BCa for the rest.

Two kinds of figure, two methods:

* **Group rates** (selection rate, base rate, accuracy, TPR, FPR, FNR, precision) are shares
  of a group's rows, so they get a binomial interval from the counts, never from resamples:
  a rate of 0 in 100 rows is compatible with a true rate of a few per cent, and a percentile
  bootstrap, whose resamples are all 0 too, would say [0, 0]. :func:`rate_interval` gives
  the Wilson score interval (default) with the Brown–Cai–DasGupta (2001) modification near 0
  and 1, or the exact Clopper–Pearson interval. Weighted rates use Kish's effective counts
  (:func:`twinaudit.fairness.counts.rate_counts`), so non-integer counts are allowed.
* **Everything else** (disparities, balanced accuracy, calibration error) is a non-linear
  function of several groups' counts. Spreads such as max − min are biased upward (the largest
  of several noisy rates overshoots), so a percentile interval can exclude its own estimate.
  :func:`bca_interval` corrects the percentiles for that bias (z0, from where the estimate
  falls among the resamples) and for skew (the acceleration, from a jackknife on cell counts:
  :func:`twinaudit.fairness.counts.leave_one_out`).

The boundary rule. When the estimate sits at the edge of the bootstrap distribution (a spread
near its floor 0, a ratio near its ceiling 1: every resample lies on one side), BCa's
corrections become degenerate and its interval can still miss the estimate. The interval
then becomes *one-sided* from the statistic's natural bound (its floor 0 or ceiling 1, or the
estimate itself when it has none) to the ``confidence`` quantile of the resamples on the other
side: "we cannot tell this spread from 0; it is at most h". Every interval returned here
therefore contains its estimate.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import special

from twinaudit.vocabulary import BOOTSTRAP_INTERVAL, RATE_INTERVALS

RateMethod = Literal["wilson", "clopper_pearson"]
RATE_METHODS: tuple[str, ...] = RATE_INTERVALS
#: The name of the bootstrap method in the audit's ``interval_methods``.
BCA = BOOTSTRAP_INTERVAL


def _z(confidence: float) -> float:
    return float(special.ndtri(0.5 + confidence / 2))


def rate_interval(
    successes: np.ndarray, trials: np.ndarray, *, method: str = "wilson",
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Binomial confidence interval of ``successes / trials``, elementwise.

    Parameters
    ----------
    successes, trials : numpy.ndarray
        Counts (effective counts when weighted: real numbers); NaN bounds where trials is 0.
    method : {"wilson", "clopper_pearson"}
        Wilson score interval, with the lower (upper) bound replaced by the exact Poisson one
        for 1 to 2 successes (failures), or 1 to 3 when there are more than 50 trials, where
        plain Wilson undercovers (Brown, Cai and DasGupta 2001, §4.1.1); or the exact
        Clopper–Pearson interval from beta quantiles, which never undercovers.
    confidence : float, default 0.95

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds. Always ``low <= successes / trials <= high`` and, where
        trials > 0, ``low < high``.
    """
    successes = np.asarray(successes, float)
    trials = np.asarray(trials, float)
    defined = trials > 0
    n = np.where(defined, trials, 1.0)
    x = np.clip(np.where(defined, successes, 0.0), 0.0, n)
    share = x / n
    alpha = 1.0 - confidence
    if method == "wilson":
        low, high = _wilson(share, n, _z(confidence))
        # Near 0 and 1 Wilson's bound is too tight; the exact Poisson bound is used there.
        last = np.where(n > 50, 3.0, 2.0)
        poisson_low = _poisson_lower(x, alpha) / n
        poisson_high = 1.0 - _poisson_lower(n - x, alpha) / n
        low = np.where((x > 0) & (x <= last), np.minimum(low, poisson_low), low)
        high = np.where((n - x > 0) & (n - x <= last), np.maximum(high, poisson_high), high)
    elif method == "clopper_pearson":
        low, high = _clopper_pearson(x, n, alpha)
    else:
        raise ValueError(f"rate interval method must be one of {', '.join(RATE_METHODS)}; "
                         f"got {method!r}")
    # Rounding must not push a bound past the estimate (a rate of 0 has a lower bound of 0).
    low = np.clip(np.minimum(low, share), 0.0, 1.0)
    high = np.clip(np.maximum(high, share), 0.0, 1.0)
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)


def _wilson(share: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    shrink = 1.0 + z**2 / n
    centre = (share + z**2 / (2 * n)) / shrink
    half = z / shrink * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def _poisson_lower(x: np.ndarray, alpha: float) -> np.ndarray:
    """The exact lower confidence bound of a Poisson mean after ``x`` events (0 for none)."""
    safe = np.maximum(x, 1e-12)
    return np.where(x > 0, special.gammaincinv(safe, alpha / 2), 0.0)


def _clopper_pearson(x: np.ndarray, n: np.ndarray, alpha: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    failures = n - x
    # Beta quantiles; their parameters must be positive, so the ends are set apart.
    low = special.betaincinv(np.maximum(x, 1e-12), failures + 1, alpha / 2)
    high = special.betaincinv(x + 1, np.maximum(failures, 1e-12), 1 - alpha / 2)
    return np.where(x > 0, low, 0.0), np.where(failures > 0, high, 1.0)


def bca_interval(
    resampled: np.ndarray, point: np.ndarray, jackknife: np.ndarray, jackknife_rows: np.ndarray,
    *, confidence: float = 0.95, floor: float | None = None, ceiling: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated bootstrap interval, with the boundary rule above.

    Parameters
    ----------
    resampled : numpy.ndarray
        The statistic per resample, shape ``(n_resamples, ...)``; NaN resamples are left out.
    point : numpy.ndarray
        The estimate on the data, shape ``(...)``.
    jackknife : numpy.ndarray
        The statistic with one row left out, shape ``(n_jackknife, ...)``, each standing for
        ``jackknife_rows`` rows (shape ``(n_jackknife,)``, or that of ``jackknife``): see
        :func:`twinaudit.fairness.counts.leave_one_out`.
    confidence : float, default 0.95
    floor, ceiling : float, optional
        The statistic's natural bounds (0 for a spread, 1 for a min/max ratio), used by the
        boundary rule.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Bounds of shape ``point.shape``; NaN where the estimate or every resample is
        undefined. Where defined, ``low <= point <= high``.
    """
    shape = np.shape(point)
    resampled = np.asarray(resampled, float).reshape(len(resampled), -1)
    point = np.asarray(point, float).reshape(-1)
    jackknife = np.asarray(jackknife, float).reshape(len(jackknife), -1)
    defined = ~np.isnan(resampled)
    n_defined = defined.sum(axis=0)

    # Bias: where the estimate falls among the resamples (ties count half; the share is kept
    # inside (0, 1) so that z0 stays finite).
    below = ((resampled < point) & defined).sum(axis=0)
    tied = ((resampled == point) & defined).sum(axis=0)
    count = np.maximum(n_defined, 1)
    share = np.clip((below + 0.5 * tied) / count, 0.5 / count, 1 - 0.5 / count)
    bias = special.ndtri(share)
    acceleration = _acceleration(jackknife, np.asarray(jackknife_rows, float))

    z = _z(confidence)
    levels = []
    for tail in (-z, z):
        shifted = bias + tail
        with np.errstate(divide="ignore", invalid="ignore"):
            adjusted = bias + shifted / np.maximum(1 - acceleration * shifted, 1e-12)
        levels.append(special.ndtr(adjusted))
    ordered = np.sort(resampled, axis=0)  # NaN sort last
    low, high = _quantiles(ordered, n_defined, levels[0]), _quantiles(ordered, n_defined,
                                                                      levels[1])

    # The boundary rule: one-sided from the natural bound where BCa misses the estimate.
    one_sided_high = _quantiles(ordered, n_defined, np.full(point.shape, confidence))
    one_sided_low = _quantiles(ordered, n_defined, np.full(point.shape, 1 - confidence))
    too_high, too_low = point < low, point > high
    start = point if floor is None else np.minimum(floor, point)
    end = point if ceiling is None else np.maximum(ceiling, point)
    low, high = (np.where(too_high, start, np.where(too_low, one_sided_low, low)),
                 np.where(too_high, np.maximum(one_sided_high, point),
                          np.where(too_low, end, high)))
    low = np.where(too_low, np.minimum(low, point), low)

    missing = np.isnan(point) | (n_defined == 0)
    low, high = np.where(missing, np.nan, low), np.where(missing, np.nan, high)
    return low.reshape(shape), high.reshape(shape)


def _acceleration(jackknife: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Efron's acceleration ``Σ d³ / (6 (Σ d²)^1.5)`` from (row-weighted) jackknife values."""
    defined = ~np.isnan(jackknife)
    weight = np.where(defined, rows.reshape(len(rows), -1), 0.0)
    values = np.where(defined, jackknife, 0.0)
    total = weight.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (weight * values).sum(axis=0) / total
        deviation = np.where(defined, mean - values, 0.0)
        spread = (weight * deviation**2).sum(axis=0)
        acceleration = (weight * deviation**3).sum(axis=0) / (6 * spread**1.5)
    return np.where(np.isfinite(acceleration), acceleration, 0.0)


def _quantiles(ordered: np.ndarray, n_defined: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per column, the ``levels`` quantile of its defined (sorted, NaN-last) values, with
    numpy's default linear interpolation."""
    position = np.clip(levels, 0.0, 1.0) * np.maximum(n_defined - 1, 0)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(n_defined - 1, 0))
    fraction = position - below
    lower = np.take_along_axis(ordered, below[None], axis=0)[0]
    upper = np.take_along_axis(ordered, above[None], axis=0)[0]
    return lower + fraction * (upper - lower)
