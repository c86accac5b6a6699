"""How two sets of attributions agree, and how much attribution falls on sensitive columns.

Agreement is measured between the torch and Keras twins of one seed and, as the yardstick,
between two seeds of one framework: if the twins disagree no more than two seeds of the same
framework do, the frameworks agree within seed noise.

All functions take plain arrays of attributions, shape (n_rows, n_features), for the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

TOP_K = 10
#: Adult's columns that stand in for sex and race (one-hot prefixes): who is a "Husband" or
#: "Wife" is a proxy for sex, marital status correlates with both.
def global_importance(attributions: np.ndarray) -> np.ndarray:
    """Mean absolute attribution per feature, shape (n_features,)."""
    return np.abs(np.asarray(attributions, dtype=np.float64)).mean(axis=0)


def top_features(importance: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Indices of the ``k`` largest importances, largest first (ties: lower index first)."""
    order = np.argsort(-np.asarray(importance), kind="stable")
    return order[:min(k, len(order))]


def spearman(first: np.ndarray, second: np.ndarray) -> float | None:
    """Spearman rank correlation of two importance vectors; None when one is constant."""
    if np.ptp(first) == 0 or np.ptp(second) == 0:
        return None
    return float(stats.spearmanr(first, second).statistic)


def top_k_overlap(first: np.ndarray, second: np.ndarray, k: int = TOP_K) -> float:
    """Share of the ``k`` most important features the two importance vectors have in common."""
    k = min(k, len(first))
    common = np.intersect1d(top_features(first, k), top_features(second, k))
    return len(common) / k


def row_cosine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row's attributions, shape (n_rows,).

    Two all-zero rows count as identical (1); an all-zero row against a non-zero one as
    unrelated (0), rather than dividing by zero.
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)   # (n,)
    dots = np.einsum("nd,nd->n", first, second)                               # (n,)
    both_zero = ~first.any(axis=1) & ~second.any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
    return np.where(both_zero, 1.0, cosine)


def compare_attributions(first: np.ndarray, second: np.ndarray, *, k: int = TOP_K) -> dict:
    """Agreement figures of two attribution arrays on the same rows.

    Returns
    -------
    dict
        ``spearman`` (of the global importances), ``top_k_overlap``, ``cosine_median`` and
        ``cosine_p5`` (5th percentile of the per-row cosine similarity), ``n_rows``, ``k``.
    """
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape:
        raise ValueError(f"attributions of shapes {first.shape} and {second.shape} cannot be "
                         "compared: they must be for the same rows and features")
    importance_first, importance_second = global_importance(first), global_importance(second)
    cosine = row_cosine(first, second)
    return {
        "spearman": spearman(importance_first, importance_second),
        "top_k_overlap": top_k_overlap(importance_first, importance_second, k),
        "cosine_median": float(np.median(cosine)) if len(cosine) else None,
        "cosine_p5": float(np.percentile(cosine, 5)) if len(cosine) else None,
        "n_rows": int(len(first)),
        "k": int(min(k, first.shape[1])),
    }


#: The figures of :func:`compare_attributions` that :func:`twin_agreement` averages.
SUMMARY_FIGURES = ("spearman", "top_k_overlap", "cosine_median", "cosine_p5")


def twin_agreement(attributions: Mapping[tuple[str, int], Any], *, k: int = TOP_K,
                   compare: Callable[[Any, Any], dict] | None = None,
                   figures: Sequence[str] = SUMMARY_FIGURES) -> dict:
    """Framework agreement (every pair of implementations, same seed) beside seed agreement
    (same implementation).

    Parameters
    ----------
    attributions : mapping of (framework, seed) to array of shape (n_rows, n_features)
        One method's attributions of the same rows, per twin (or whatever ``compare`` takes).
    k : int
        Top-k of the default comparison.
    compare : callable, optional
        ``(first, second) -> dict`` of figures for one pair of twins; by default
        :func:`compare_attributions` (tabular features). Images and text bring their own
        figures (heat-map correlation, per-sentence rank correlation) and share the pairing.
    figures : sequence of str
        The figures of ``compare`` averaged into ``summary``.

    Returns
    -------
    dict
        ``frameworks``: one entry per pair of implementations and seed present in both;
        ``seeds``: per
        framework, one entry per pair of seeds; ``summary``: the mean of each figure over
        framework pairs and over seed pairs (None where there are no pairs).
    """
    if compare is None:
        def compare(first, second):
            return compare_attributions(first, second, k=k)
    frameworks = sorted({framework for framework, _ in attributions})
    framework_pairs = []
    for first, second in combinations(frameworks, 2):
        for seed in sorted({s for f, s in attributions if f == first}
                           & {s for f, s in attributions if f == second}):
            framework_pairs.append({"seed": int(seed), "frameworks": [first, second],
                                    **compare(attributions[first, seed],
                                              attributions[second, seed])})
    seed_pairs = {
        framework: [
            {"seeds": [int(a), int(b)],
             **compare(attributions[framework, a], attributions[framework, b])}
            for a, b in combinations(sorted(s for f, s in attributions if f == framework), 2)
        ]
        for framework in frameworks
    }
    all_seed_pairs = [pair for pairs in seed_pairs.values() for pair in pairs]
    return {
        "frameworks": framework_pairs,
        "seeds": seed_pairs,
        "summary": {"frameworks": _mean_figures(framework_pairs, figures),
                    "seeds": _mean_figures(all_seed_pairs, figures)},
    }


def _mean_figures(pairs: Sequence[dict], figures: Sequence[str]) -> dict | None:
    if not pairs:
        return None
    summary = {}
    for name in figures:
        values = [pair[name] for pair in pairs if pair[name] is not None]
        summary[name] = float(np.mean(values)) if values else None
    return summary


# -- the fairness link ------------------------------------------------------------------------

def matching_columns(feature_names: Sequence[str], names: Iterable[str]) -> list[int]:
    """Indices of the features that ``names`` select.

    A name selects the feature of that exact name, and the one-hot columns of a source column:
    ``"sex"`` selects ``sex=Female`` and ``sex=Male``; a name ending in ``=`` (``"sex="``) is a
    prefix of one-hot columns.
    """
    selected: set[int] = set()
    for name in names:
        prefix = name if name.endswith("=") else f"{name}="
        selected.update(index for index, feature in enumerate(feature_names)
                        if feature == name or feature.startswith(prefix))
    return sorted(selected)


def attribution_share(attributions: np.ndarray, columns: Sequence[int]) -> float | None:
    """Share of the total absolute attribution that falls on ``columns`` (None if all zero)."""
    magnitude = np.abs(np.asarray(attributions, dtype=np.float64))
    total = magnitude.sum()
    if total == 0:
        return None
    return float(magnitude[:, list(columns)].sum() / total)


def fairness_link(
    attributions: np.ndarray,
    feature_names: Sequence[str],
    sensitive_features: pd.DataFrame,
    *,
    sensitive_columns: Iterable[str],
    proxy_columns: Iterable[str] = (),
    top_k: int = 5,
) -> dict:
    """Does the model lean on the sensitive attributes or their proxies?

    Parameters
    ----------
    attributions : array of shape (n_rows, n_features)
    feature_names : sequence of str
    sensitive_features : DataFrame with n_rows rows
        The group of each row, one column per sensitive feature.
    sensitive_columns, proxy_columns : iterable of str
        Input columns (or source-column names / one-hot prefixes, see
        :func:`matching_columns`) of the sensitive features and of their proxies.
    top_k : int
        How many of the most important features get a between-group comparison.

    Returns
    -------
    dict
        ``share``: attribution share on ``sensitive`` columns, on ``proxy`` columns (those not
        already sensitive) and on either; ``share_by_group``: the same per group of each
        sensitive feature; ``group_differences``: for the ``top_k`` features, the mean signed
        attribution per group and the largest minus the smallest group mean.
    """
    attributions = np.asarray(attributions, dtype=np.float64)
    if len(sensitive_features) != len(attributions):
        raise ValueError(f"sensitive_features has {len(sensitive_features)} rows, the "
                         f"attributions {len(attributions)}")
    sensitive = matching_columns(feature_names, sensitive_columns)
    proxy = sorted(set(matching_columns(feature_names, proxy_columns)) - set(sensitive))
    column_sets = {"sensitive": sensitive, "proxy": proxy,
                   "sensitive_or_proxy": sorted(set(sensitive) | set(proxy))}

    def shares(rows: np.ndarray) -> dict:
        return {name: attribution_share(rows, columns) for name, columns in column_sets.items()}

    top = top_features(global_importance(attributions), top_k)
    share_by_group, group_differences = {}, {}
    for column in sensitive_features.columns:
        groups = sensitive_features[column].astype(str).to_numpy()
        names = sorted(set(groups))
        share_by_group[column] = {group: shares(attributions[groups == group]) for group in names}
        group_differences[column] = {
            feature_names[index]: _group_means(attributions[:, index], groups, names)
            for index in top
        }
    return {"share": shares(attributions), "share_by_group": share_by_group,
            "group_differences": group_differences}


def _group_means(values: np.ndarray, groups: np.ndarray, names: Sequence[str]) -> dict:
    means = {group: float(values[groups == group].mean()) for group in names}
    return {"by_group": means, "difference": float(max(means.values()) - min(means.values()))}
