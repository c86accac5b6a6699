"""Implementations × figures: with three or more implementations (Keras on several backends
beside torch), one row per implementation and one cell per pair's parity verdict.

Every figure is read from results.json as written: the parity audit of every pair (``parity``
and ``parity.pairs``), the fairness audit's per-twin disparities and its pairwise summaries
(``fairness.summary`` and ``fairness.summary_pairs``), and the attribution agreement of every
pair of implementations. Nothing is recomputed here.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from twinaudit.report.formatting import is_number
from twinaudit.report.tree import find
from twinaudit.report.views._common import get

#: Attribution agreement figures, in the order looked for: a twin pair's median row cosine
#: (tables and text; images name it ``row_cosine_median``).
AGREEMENT_FIGURES = ("cosine_median", "row_cosine_median")


def implementations_matrix(results: dict, fairness: dict | None) -> dict | None:
    """The matrix, or None for a run of fewer than three implementations."""
    parity = results.get("parity")
    if not isinstance(parity, Mapping) or not parity.get("pairs"):
        return None
    sections = [parity, *[pair for pair in parity["pairs"] if isinstance(pair, Mapping)]]
    by_pair = {tuple(section.get("frameworks") or ()): section for section in sections}
    names = list(dict.fromkeys(name for pair in by_pair for name in pair))
    reference = names[0]
    disparities = _headline_disparities(fairness)
    agreement = _attribution_agreement(results.get("attribution"))
    backends = get(results, "environment", "keras_backends") or {}
    rows = []
    for name in names:
        versus = _pair(by_pair, reference, name)
        rows.append({
            "name": name, "backend": backends.get(name),
            "accuracy": _accuracy(sections, name),
            "verdict": None if versus is None else get(versus, "verdict"),
            "float64": None if versus is None else _exact_max(versus),
            "disparities": [
                {"mean": get(row, "by_framework", name, "figure").mean
                 if get(row, "by_framework", name) else None,
                 "reading": _disparity_reading(results.get("fairness"), reference, name,
                                               group_set, row["name"])}
                for group_set, row in disparities],
            "agreement": agreement.get(frozenset((reference, name))),
        })
    grid = [{"name": first, "cells": [
        None if first == second else _cell(_pair(by_pair, first, second)) for second in names]}
        for first in names]
    return {"reference": reference, "names": names, "rows": rows, "grid": grid,
            "disparities": [{"group_set": group_set, "name": row["name"]}
                            for group_set, row in disparities],
            "all_passed": all(get(section, "verdict", "passed") is True for section in sections)}


def _pair(by_pair: Mapping[tuple, Mapping], first: str, second: str) -> Mapping | None:
    return by_pair.get((first, second)) or by_pair.get((second, first))


def _cell(section: Mapping | None) -> dict | None:
    if section is None:
        return None
    return {"passed": get(section, "verdict", "passed"), "float64": _exact_max(section),
            "text": get(section, "verdict", "text")}


def _exact_max(section: Mapping) -> float | None:
    values = [get(stage, "max") for stage in (get(section, "proof", "exact") or {}).values()]
    values = [value for value in values if is_number(value)]
    return max(values) if values else None


def _accuracy(sections: list[Mapping], name: str) -> float | None:
    """The mean test accuracy over seeds, from any pair that holds the implementation."""
    for section in sections:
        mean = get(section, "accuracy", "by_framework", name, "mean")
        if is_number(mean):
            return mean
    return None


def _headline_disparities(fairness: dict | None) -> list[tuple[str, dict]]:
    """(group set, disparity row) of each headline disparity of the report's fairness view."""
    if not fairness:
        return []
    return [(group_set["name"], row) for group_set in fairness.get("group_sets", [])
            for row in group_set.get("disparities", []) if row.get("headline")]


def _disparity_reading(fairness: Any, reference: str, name: str, group_set: str,
                       disparity: str) -> str | None:
    """The paired equivalence verdict of one disparity between the reference and ``name``."""
    if name == reference:
        return None
    summaries = [get(fairness, "summary"), *(get(fairness, "summary_pairs") or [])]
    for summary in summaries:
        if isinstance(summary, Mapping) and \
                set(summary.get("frameworks") or ()) == {reference, name}:
            return get(summary, "group_sets", group_set, disparity, "verdict")
    return None


def _attribution_agreement(attribution: Any) -> dict[frozenset, float]:
    """Per pair of implementations, the mean over seeds of the first attribution method's
    agreement figure (Integrated Gradients: the first method of every network kind)."""
    found = find(attribution, lambda node: isinstance(node, dict)
                 and isinstance(node.get("frameworks"), list) and "seeds" in node)
    if not found:
        return {}
    values: dict[frozenset, list[float]] = {}
    for entry in found[0][1]["frameworks"]:
        figure = next((entry[key] for key in AGREEMENT_FIGURES
                       if isinstance(entry, Mapping) and is_number(entry.get(key))), None)
        if figure is not None:
            values.setdefault(frozenset(entry["frameworks"]), []).append(figure)
    return {pair: statistics.fmean(figures) for pair, figures in values.items()}
