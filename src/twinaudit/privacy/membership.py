"""Membership inference: can an attacker tell the rows a twin was trained on from rows it
never saw?

Two attacks, each a score per candidate row (higher: more likely a member):

- **loss threshold** (Yeom et al., "Privacy Risk in Machine Learning", CSF 2018): the row's
  negated loss — a model fits its training rows better. No shadow models.
- **LiRA, offline** (Carlini et al., "Membership Inference Attacks From First Principles",
  S&P 2022): the row's logit-scaled confidence ``φ = log(p_y / (1 − p_y))`` compared with
  the same row's ``φ`` under shadow twins that did *not* train on it: ``(φ − μ_out) / σ``,
  with ``μ_out`` the row's mean over those shadows and ``σ`` one spread over all rows (the
  paper's fixed variance, its advice for few shadows). For a reconstruction network,
  ``φ = −log(reconstruction error)``.

Candidates are balanced, as the literature evaluates: as many members (a seeded sample of the
training split) as non-members (of the test split), the smaller split's size at most, so
an attack that guesses has AUC 0.5 and its TPR at a low FPR equals the FPR.

Figures — ROC AUC and the TPR at 0.1 % and 1 % FPR (the highest TPR of a threshold whose FPR
is at most that) — come with percentile intervals from a bootstrap stratified by membership
(and group), computed on counts per distinct score so that 1,000 resamples of 30,000 rows
take a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from twinaudit.frameworks import Twin

#: The false-positive rates the TPR is read at (Carlini et al.'s low-FPR regime).
FPRS = (0.001, 0.01)
#: The ROC curve kept for the report: TPR at these FPRs, log-spaced as the literature plots it.
ROC_FPRS = tuple(float(f) for f in np.logspace(-3, 0, 31))
#: Resamples drawn at once: bounds the bootstrap's memory at ~100 × rows integers.
_CHUNK = 100


@dataclass(frozen=True)
class Candidates:
    """The attack's rows: indices into the training split (members) and the test split
    (non-members), as many of each."""

    members: np.ndarray
    non_members: np.ndarray

    @property
    def is_member(self) -> np.ndarray:
        return np.r_[np.ones(len(self.members), bool), np.zeros(len(self.non_members), bool)]


def candidate_rows(n_train: int, n_test: int, *, max_rows: int, random_state: int) -> Candidates:
    """A seeded sample of ``min(n_train, n_test, max_rows)`` rows of each split (0: no cap)."""
    n = min(n_train, n_test, max_rows or n_train)
    rng = np.random.default_rng([random_state, 2018])
    return Candidates(np.sort(rng.choice(n_train, n, replace=False)),
                      np.sort(rng.choice(n_test, n, replace=False)))


def loss_scores(twin: Twin, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The loss-threshold attack's score: each row's negated loss (cross-entropy of its label,
    or its reconstruction error), in float64."""
    assert twin.network is not None, "the twin has no network"
    if twin.network.task.target_is_input:
        return -np.asarray(twin.decision_function(X), dtype=np.float64)
    logits = np.asarray(twin.decision_function(X), dtype=np.float64)
    return _log_softmax(logits)[np.arange(len(y)), np.asarray(y)]


def confidence_statistic(twin: Twin, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LiRA's ``φ``: ``log p_y − log(1 − p_y)`` from the logits (``z_y`` minus the log-sum-exp
    of the other logits, stable where p_y rounds to 1), or ``−log(error)``."""
    assert twin.network is not None, "the twin has no network"
    if twin.network.task.target_is_input:
        error = np.asarray(twin.decision_function(X), dtype=np.float64)
        return -np.log(np.maximum(error, np.finfo(np.float64).tiny))
    logits = np.asarray(twin.decision_function(X), dtype=np.float64)
    rows = np.arange(len(y))
    own = logits[rows, np.asarray(y)]
    others = logits.copy()
    others[rows, np.asarray(y)] = -np.inf
    top = others.max(axis=1)
    return own - (top + np.log(np.exp(others - top[:, None]).sum(axis=1)))


def lira_offline_scores(target: np.ndarray, shadows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``(φ − μ_out) / σ`` per row: ``shadows`` (k, n) are the shadow twins' ``φ``, ``out``
    (k, n) whether shadow k did not train on row n (every row needs one such shadow)."""
    counts = out.sum(axis=0)
    if np.any(counts == 0):
        raise ValueError("every candidate row needs at least one shadow that did not train "
                         "on it")
    mean = np.where(out, shadows, 0.0).sum(axis=0) / counts
    spread = float(np.std((shadows - mean)[out], ddof=1)) if out.sum() > 1 else 0.0
    return (target - mean) / (spread if spread > 0 else 1.0)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# -- ROC figures and their bootstrap --------------------------------------------------------


def _roc_from_counts(members: np.ndarray, non_members: np.ndarray,
                     fprs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """AUC (R,) and TPR at each FPR (R, len(fprs)) from counts per distinct score (R, B),
    the scores in descending order: a threshold at bin b calls that bin and every higher one
    a member."""
    n_m = members.sum(axis=1)
    n_n = non_members.sum(axis=1)
    true_positives = np.cumsum(members, axis=1)
    false_positives = np.cumsum(non_members, axis=1)
    # A member beats every non-member below its bin and ties with half of those in it.
    wins = (members * (n_n[:, None] - false_positives + 0.5 * non_members)).sum(axis=1)
    auc = wins / (n_m * n_n)
    tpr = np.stack([np.where(false_positives <= fpr * n_n[:, None], true_positives, 0).max(
        axis=1) / n_m for fpr in fprs], axis=1)
    return auc, tpr


def _bin_counts(bins: np.ndarray, n_bins: int, draws: np.ndarray | None) -> np.ndarray:
    """Counts per bin of each resample (rows of ``draws``: indices into ``bins``), or of the
    sample itself."""
    if draws is None:
        return np.bincount(bins, minlength=n_bins)[None, :].astype(np.float64)
    offsets = (np.arange(len(draws)) * n_bins)[:, None]
    return np.bincount((bins[draws] + offsets).ravel(),
                       minlength=len(draws) * n_bins).reshape(len(draws), n_bins).astype(
        np.float64)


def roc_resamples(scores: np.ndarray, is_member: np.ndarray, *, n_resamples: int,
                  rng: np.random.Generator, fprs: tuple[float, ...] = FPRS
                  ) -> tuple[tuple[float, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The sample's (AUC, TPRs) and those of ``n_resamples`` bootstrap samples drawn within
    the members and within the non-members."""
    distinct, inverse = np.unique(-np.asarray(scores, dtype=np.float64), return_inverse=True)
    bins = inverse.reshape(-1)
    member_bins, other_bins = bins[is_member], bins[~is_member]
    n_bins = len(distinct)
    auc, tpr = _roc_from_counts(_bin_counts(member_bins, n_bins, None),
                                _bin_counts(other_bins, n_bins, None), fprs)
    aucs, tprs = [], []
    for start in range(0, n_resamples, _CHUNK):
        size = min(_CHUNK, n_resamples - start)
        draw_m = rng.integers(0, len(member_bins), (size, len(member_bins)))
        draw_n = rng.integers(0, len(other_bins), (size, len(other_bins)))
        a, t = _roc_from_counts(_bin_counts(member_bins, n_bins, draw_m),
                                _bin_counts(other_bins, n_bins, draw_n), fprs)
        aucs.append(a)
        tprs.append(t)
    return ((float(auc[0]), tpr[0]),
            (np.concatenate(aucs) if aucs else np.empty(0),
             np.concatenate(tprs) if tprs else np.empty((0, len(fprs)))))


def percentile_interval(values: np.ndarray, confidence: float) -> list[float] | None:
    """The percentile bootstrap interval of resampled ``values`` (None without resamples)."""
    if values.size == 0:
        return None
    tail = (1 - confidence) / 2 * 100
    return [float(v) for v in np.percentile(values, [tail, 100 - tail])]


def attack_figures(scores: np.ndarray, is_member: np.ndarray,
                   groups: Mapping[str, np.ndarray], *, n_resamples: int, confidence: float,
                   random_state: int, min_group_size: int,
                   fprs: tuple[float, ...] = FPRS) -> dict[str, Any]:
    """An attack's figures over all candidates and per group of every group set (``groups``:
    set name -> each candidate's group label), with bootstrap intervals, and per set the gap
    between the most and the least exposed group of at least ``min_group_size`` members and
    non-members."""
    rng = np.random.default_rng([random_state, 2022])

    def figures(rows: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
        member = is_member[rows]
        (auc, tpr), (aucs, tprs) = roc_resamples(scores[rows], member,
                                                 n_resamples=n_resamples, rng=rng, fprs=fprs)
        n_non = int((~member).sum())
        at: dict[str, Any] = {}
        for index, fpr in enumerate(fprs):
            if n_non * fpr < 1:  # not one non-member may be called a member: unresolvable
                at[f"{fpr:g}"] = {"value": None, "ci": None,
                                  "reason": f"under {int(np.ceil(1 / fpr))} non-members"}
            else:
                at[f"{fpr:g}"] = {"value": float(tpr[index]),
                                  "ci": percentile_interval(tprs[:, index], confidence)}
        return ({"n_members": int(member.sum()), "n_non_members": n_non, "auc": auc,
                 "auc_ci": percentile_interval(aucs, confidence), "tpr_at_fpr": at}, aucs)

    everyone = np.arange(len(scores))
    overall, _ = figures(everyone)
    (_, curve), _ = roc_resamples(scores, is_member, n_resamples=0, rng=rng, fprs=ROC_FPRS)
    overall["roc"] = {"fpr": list(ROC_FPRS), "tpr": [float(v) for v in curve]}
    by_group: dict[str, Any] = {}
    for name, labels in groups.items():
        entries, resampled = [], {}
        labels = np.asarray(labels).astype(str)
        for group in sorted(set(labels.tolist())):
            rows = everyone[labels == group]
            member = is_member[rows]
            big_enough = min(int(member.sum()), int((~member).sum())) >= min_group_size
            if not big_enough or member.all() or not member.any():
                entries.append({"group": group, "n_members": int(member.sum()),
                                "n_non_members": int((~member).sum()), "auc": None,
                                "reason": f"under {min_group_size} members or non-members"})
                continue
            entry, aucs = figures(rows)
            entries.append({"group": group, **entry})
            resampled[group] = aucs
        by_group[name] = {"groups": entries, "gap": _gap(entries, resampled, confidence)}
    return {"overall": overall, "by_group": by_group,
            "interval": f"percentile bootstrap ({n_resamples} resamples within membership "
                        "and group)", "confidence": confidence}


def _gap(entries: list[dict[str, Any]], resampled: dict[str, np.ndarray],
         confidence: float) -> dict[str, Any] | None:
    """The most exposed group's AUC minus the least exposed one's, with the interval of that
    difference for the same two groups over the same resamples (each group resampled within
    itself). The pair is fixed on the sample: a max − min per resample could never reach 0,
    so its interval would exclude 0 whatever the data."""
    measured = [entry for entry in entries if entry.get("auc") is not None]
    if len(measured) < 2:
        return None
    highest = max(measured, key=lambda entry: entry["auc"])
    lowest = min(measured, key=lambda entry: entry["auc"])
    gaps = resampled[highest["group"]] - resampled[lowest["group"]]
    return {"value": float(highest["auc"] - lowest["auc"]),
            "ci": percentile_interval(gaps, confidence),
            "highest": highest["group"], "lowest": lowest["group"]}
