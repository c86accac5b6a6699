"""Paired seed statistics: are two twins equivalent on a metric, within a stated margin?

The twins train with the same seeds, so seed ``s`` gives one *pair* ``(reference_s, other_s)``
and the question is about the paired differences ``d_s = reference_s − other_s`` (pairing
removes the seed-to-seed variation both twins share). With ``n`` pairs, mean ``d̄``, standard
deviation ``s`` (ddof=1), standard error ``se = s / √n`` and ``t* = t_{1−α, n−1}``:

* the (1 − 2α) two-sided confidence interval of the mean difference is ``d̄ ± t*·se``;
* TOST (Schuirmann's two one-sided t-tests) tests H0: mean ≤ −margin with
  ``p_lower = P(T_{n−1} ≥ (d̄ + margin)/se)`` and H0: mean ≥ +margin with
  ``p_upper = P(T_{n−1} ≤ (d̄ − margin)/se)``; ``p_tost = max(p_lower, p_upper)``.
  ``p_tost < α`` exactly when the (1 − 2α) interval lies inside (−margin, margin), so the
  verdict is **equivalent** then, and at most α of truly non-equivalent twins are called so;
* **different** when the interval lies entirely outside [−margin, margin]: confident that the
  gap exceeds the margin; otherwise **undecided**;
* ``seeds_needed`` (undecided only): the smallest ``N`` with
  ``|d̄| + t_{1−α, N−1}·s/√N < margin``, i.e. the number of seeds at which the interval would
  fit inside the margin if the observed mean and sd held. Impossible when ``|d̄| ≥ margin``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from twinaudit.spec.sections import RELATIVE_MARGINS

SEEDS_CAP = 1000


def margin_for(family: str, margins: Mapping[str, float],
               reference: Sequence[float | None] = ()) -> float:
    """The absolute margin of ``family``: ``margins[family]``, times |mean(reference)| for a
    relative family (:data:`twinaudit.spec.sections.RELATIVE_MARGINS`)."""
    margin = margins[family]
    if family in RELATIVE_MARGINS:
        values = _defined(reference)
        if not values.size:
            raise ValueError(f"a relative margin ({family}) needs reference values")
        margin *= abs(float(values.mean()))
    return margin


def _as_array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _defined(values: Sequence[float | None]) -> np.ndarray:
    array = _as_array(values)
    return array[~np.isnan(array)]


def _fits(mean: float, sd: float, n: np.ndarray, margin: float, alpha: float) -> np.ndarray:
    """Whether the (1 − 2α) interval of ``n`` seeds with this mean and sd is inside ±margin."""
    return abs(mean) + stats.t.ppf(1 - alpha, n - 1) * sd / np.sqrt(n) < margin


def paired_equivalence(reference: Sequence[float | None], other: Sequence[float | None], *,
                       margin: float, alpha: float = 0.05) -> dict:
    """Paired TOST equivalence of two twins' per-seed values (see the module docstring).

    Parameters
    ----------
    reference, other
        Per-seed values of one metric, in the same seed order; a pair where either value is
        None or NaN is dropped.
    margin
        The equivalence margin (> 0), absolute, in the metric's units.
    alpha
        Size of each one-sided test; the interval reported is the (1 − 2α) one.

    Returns
    -------
    dict
        JSON-ready: ``n_seeds``, ``differences``, ``mean``, ``sd``, ``ci_level``, ``ci``,
        ``margin``, ``alpha``, ``p_lower``, ``p_upper``, ``p_tost``, ``verdict``
        (``"equivalent"``, ``"different"`` or ``"undecided"``), ``seeds_needed``,
        ``more_seeds_needed``, ``reason`` and ``text`` (one sentence for humans).
    """
    if len(reference) != len(other):
        raise ValueError(f"{len(reference)} reference values but {len(other)} other values")
    if not (np.isfinite(margin) and margin > 0) or not 0 < alpha < 0.5:
        raise ValueError(f"needs margin > 0 and 0 < alpha < 0.5, got {margin}, {alpha}")
    pairs = np.array([_as_array(reference), _as_array(other)])
    d = (pairs[0] - pairs[1])[~np.isnan(pairs).any(axis=0)]
    n, level = int(d.size), 1 - 2 * alpha
    out: dict[str, Any] = {"n_seeds": n, "differences": d.tolist(),
                           "mean": float(d.mean()) if n else None, "sd": None,
                           "ci_level": level, "ci": None, "margin": margin, "alpha": alpha,
                           "p_lower": None, "p_upper": None, "p_tost": None,
                           "verdict": "undecided", "seeds_needed": None,
                           "more_seeds_needed": None, "reason": None}
    if n < 2:
        out["reason"] = "needs at least two seeds with values in both frameworks"
        return {**out, "text": f"undecided ({out['reason']})"}
    # Identical differences are taken exactly: the rounding of a sum could otherwise leave a
    # spurious sd of 1e-18, or move a mean equal to the margin to just inside it.
    identical = bool(np.all(d == d[0]))
    mean = float(d[0]) if identical else float(d.mean())
    sd = 0.0 if identical else float(d.std(ddof=1))
    if sd == 0:
        # A zero-variance paired difference is legitimate evidence, not a degenerate sample:
        # the twins share the seed, the data and the split, so when they predict identically
        # d_s is exactly the same on every seed (often 0). The interval is the point d̄, and
        # each one-sided test is decided outright (t = ±inf) without dividing by se = 0.
        lo = hi = mean
        p_lower, p_upper = float(mean <= -margin), float(mean >= margin)
        out["reason"] = "all paired differences are identical (zero variance)"
    else:
        se, t_crit = sd / np.sqrt(n), float(stats.t.ppf(1 - alpha, n - 1))
        lo, hi = mean - t_crit * se, mean + t_crit * se
        p_lower = float(stats.t.sf((mean + margin) / se, n - 1))
        p_upper = float(stats.t.cdf((mean - margin) / se, n - 1))
    out.update(mean=mean, sd=sd, ci=[lo, hi], p_lower=p_lower, p_upper=p_upper,
               p_tost=max(p_lower, p_upper))
    # The verdicts are read off the interval (equivalent to p_tost < α, without the rounding
    # of a p-value against α at the boundary).
    ci_text = f"{100 * level:.3g} % CI [{lo:.3g}, {hi:.3g}]"
    if -margin < lo and hi < margin:
        out.update(verdict="equivalent", text=f"equivalent within ±{margin:.3g} ({ci_text})")
    elif lo > margin or hi < -margin:
        out.update(verdict="different", text=f"different ({ci_text} outside ±{margin:.3g})")
    elif abs(mean) >= margin:
        out["reason"] = (f"the mean difference {mean:.3g} is not inside ±{margin:.3g}: more "
                         "seeds alone cannot show equivalence")
        out["text"] = f"undecided ({out['reason']})"
    else:
        sizes = np.arange(n + 1, SEEDS_CAP + 1)
        fits = _fits(mean, sd, sizes, margin, alpha)
        if fits.any():
            needed = int(sizes[np.argmax(fits)])  # the interval shrinks with n: first fit
            more = needed - n
            out.update(seeds_needed=needed, more_seeds_needed=more,
                       text=f"undecided ({more} more seed{'s' * (more > 1)} needed)")
        else:
            out["reason"] = f"more than {SEEDS_CAP} seeds would be needed"
            out["text"] = f"undecided ({out['reason']})"
    return out


def seed_spread(values: Sequence[float | None], *, level: float = 0.90) -> dict:
    """Mean and seed-to-seed standard deviation of one twin's values, with an interval.

    The interval of the standard deviation is the chi-square one (assuming normal seed
    noise): ``[s·√((n−1)/χ²_{(1+level)/2, n−1}), s·√((n−1)/χ²_{(1−level)/2, n−1})]``.

    Returns
    -------
    dict
        ``{"n_seeds", "values", "mean", "sd", "level", "sd_interval", "reason"}``; with fewer
        than two defined values ``sd`` and ``sd_interval`` are None with the reason.
    """
    defined = _defined(values)
    n = int(defined.size)
    out: dict[str, Any] = {"n_seeds": n, "values": defined.tolist(),
                           "mean": float(defined.mean()) if n else None, "sd": None,
                           "level": level, "sd_interval": None, "reason": None}
    if n < 2:
        out["reason"] = "needs at least two seeds with a value"
        return out
    sd = float(defined.std(ddof=1))
    tails = stats.chi2.ppf([(1 + level) / 2, (1 - level) / 2], n - 1)
    out.update(sd=sd, sd_interval=[float(v) for v in sd * np.sqrt((n - 1) / tails)])
    return out


def mean_interval(values: Sequence[float | None], *, level: float = 0.95) -> list[float] | None:
    """The t interval of the mean over seeds: ``mean ± t_{(1+level)/2, n−1}·s/√n``.

    Identical values give the point itself (no seed noise at all); under two defined values
    there is no interval (None).
    """
    defined = _defined(values)
    n = int(defined.size)
    if n < 2:
        return None
    if np.all(defined == defined[0]):
        return [float(defined[0])] * 2
    mean, se = float(defined.mean()), float(defined.std(ddof=1)) / np.sqrt(n)
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * se
    return [mean - half, mean + half]


def paired_change(before: Sequence[float | None], after: Sequence[float | None], *,
                  level: float = 0.95) -> dict[str, Any]:
    """The change ``after_s − before_s`` over the seeds both sides have, read with its seeds'
    noise: a mitigated twin of seed ``s`` and the baseline twin of seed ``s`` form a pair.

    Returns
    -------
    dict
        ``{"n_seeds", "mean", "ci" (the ``level`` t interval of the mean change), "level",
        "reading"}``; ``reading`` is "higher" or "lower" when the interval excludes 0, "no
        clear change" when it holds 0 (a change inside seed noise), "undecided" with under two
        pairs.
    """
    if len(before) != len(after):
        raise ValueError(f"{len(before)} values before but {len(after)} after")
    pairs = np.array([_as_array(before), _as_array(after)])
    d = (pairs[1] - pairs[0])[~np.isnan(pairs).any(axis=0)]
    ci = mean_interval(d.tolist(), level=level)
    out: dict[str, Any] = {"n_seeds": int(d.size), "mean": float(d.mean()) if d.size else None,
                           "ci": ci, "level": level, "reading": "undecided"}
    if ci is not None:
        out["reading"] = ("higher" if ci[0] > 0 else "lower" if ci[1] < 0
                          else "no clear change")
    return out
