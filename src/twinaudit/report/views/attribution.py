"""The attribution section: what each twin relies on, and whether the twins agree on it.

Tabular twins get global importance and the attribution share on sensitive features and
proxies; image twins Integrated Gradients heat maps per class; text twins top tokens and
example sentences with per-token scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twinaudit.report.charts import Bar, bar_chart, diverging_colour, heat_map
from twinaudit.report.formatting import is_number
from twinaudit.report.views._common import get

TOP_FEATURES = 15


def attribution_section(results: dict) -> dict | None:
    """Global importance of both twins side by side, twin agreement against seed noise,
    attribution share on sensitive features and proxies, and what could not be computed.

    Every figure of a framework is the mean over its seeds; agreement "between frameworks"
    compares twins of the same seed, "between seeds" twins of one framework. Image and text
    twins (``attribution.kind``) get their own views: heat maps per class, or top tokens and
    example sentences; a network the audit cannot explain gets its reason.
    """
    attribution = results.get("attribution")
    if not isinstance(attribution, Mapping):
        return None
    if attribution.get("status") == "not_applicable":
        return {"kind": "not_applicable", "reason": attribution.get("reason")}
    if not isinstance(attribution.get("methods"), Mapping):
        return None
    if attribution.get("kind") == "image":
        return _image_attribution(attribution)
    if attribution.get("kind") == "text":
        return _text_attribution(attribution)
    features = list(attribution.get("feature_names") or [])
    methods = attribution["methods"]
    agreement, shares, skipped, completeness = [], [], [], []
    for method, outcome in methods.items():
        twins = outcome.get("twins") or {}
        summary = get(outcome, "agreement", "summary") or {}
        agreement.append({"method": method, "frameworks": summary.get("frameworks"),
                          "seeds": summary.get("seeds")})
        for framework, entries in _twins_by_framework(twins).items():
            ok = _ok(entries)
            if not ok:
                reasons = {entry.get("reason") or entry.get("error") or entry.get("status")
                           for entry in entries}
                skipped.append({"method": method, "framework": framework,
                                "status": entries[0].get("status"),
                                "reason": "; ".join(sorted(map(str, reasons)))})
                continue
            shares.append({"method": method, "framework": framework, **{
                kind: _mean([get(entry, "fairness", "share", kind) for entry in ok])
                for kind in ("sensitive", "proxy", "sensitive_or_proxy")}})
        if method == "integrated_gradients":
            completeness = _completeness(twins)
    chart = _importance_chart(methods.get("integrated_gradients"), features)
    return {"kind": "tabular", "settings": attribution.get("settings") or {},
            "target": attribution.get("target"),
            "columns": attribution.get("columns") or {}, "chart": chart,
            "agreement": agreement, "shares": shares, "skipped": skipped,
            "completeness": completeness,
            "captum_check": get(methods, "integrated_gradients", "captum_check")}


def _ok(entries: list[Mapping]) -> list[Mapping]:
    """The twin entries whose attribution was computed."""
    return [entry for entry in entries if entry.get("status") == "ok"]


def _completeness(twins: Mapping) -> list[dict]:
    """Integrated Gradients' completeness per framework: mean relative delta over seeds."""
    rows = []
    for framework, entries in _twins_by_framework(twins).items():
        ok = _ok(entries)
        if ok:
            rows.append({"framework": framework, **{
                key: _mean([get(entry, "completeness", key) for entry in ok])
                for key in ("relative_delta", "median_row_relative_delta")},
                "flagged": any(get(entry, "completeness", "flagged") for entry in ok)})
    return rows


def _ordered_twins(twins: Mapping) -> list[str]:
    """Twin keys "framework/seed" by seed, frameworks in the run's order: twins side by side."""
    frameworks = list(dict.fromkeys(str(key).split("/")[0] for key in twins))

    def order(key: str) -> tuple:
        framework, _, seed = str(key).partition("/")
        return (int(seed) if seed.isdecimal() else 0, seed, frameworks.index(framework))

    return sorted((str(key) for key, entry in twins.items() if isinstance(entry, Mapping)
                   and entry.get("status") == "ok"), key=order)


def _network_attribution(attribution: Mapping) -> tuple[Mapping, dict]:
    """What the image and text views share: settings, target, agreement, completeness."""
    outcome = get(attribution, "methods", "integrated_gradients")
    outcome = outcome if isinstance(outcome, Mapping) else {}
    summary = get(outcome, "agreement", "summary")
    summary = summary if isinstance(summary, Mapping) else {}
    return outcome, {
        "kind": attribution.get("kind"), "settings": attribution.get("settings") or {},
        "target": attribution.get("target"),
        "agreement": {"frameworks": summary.get("frameworks"), "seeds": summary.get("seeds")},
        "completeness": _completeness(_mapping(outcome.get("twins"))),
        "captum_check": outcome.get("captum_check"),
    }


def _pair_mean(pairs: list, name: str, index: int) -> float | None:
    """Mean over twin pairs of the ``index``-th value of a per-class figure."""
    return _mean([get(pair, name, index) for pair in pairs if isinstance(pair, Mapping)])


def _image_attribution(attribution: Mapping) -> dict:
    """Heat maps per class, every twin a row (torch and Keras of a seed adjacent)."""
    outcome, view = _network_attribution(attribution)
    twins = _mapping(outcome.get("twins"))
    classes = [str(c) for c in attribution.get("classes") or []]
    keys = _ordered_twins(twins)
    panels = [[_grid(get(twins, key, "heat_maps", index)) for index in range(len(classes))]
              for key in keys]
    chart = heat_map(panels, row_labels=keys, column_labels=classes,
                     title="Integrated Gradients per class: mean attribution toward the true "
                           "class", value_label="mean attribution (log-softmax)") \
        if keys and classes else None
    framework_pairs = _mappings(get(outcome, "agreement", "frameworks"))
    by_framework = get(outcome, "agreement", "seeds")
    seed_pairs = [pair for pairs in (by_framework.values() if isinstance(by_framework, Mapping)
                                     else []) for pair in _mappings(pairs)]
    per_class = [{"label": label, "rows": get(_list(attribution.get("rows_per_class")), index),
                  "frameworks": _pair_mean(framework_pairs, "heat_map_pearson", index),
                  "seeds": _pair_mean(seed_pairs, "heat_map_pearson", index)}
                 for index, label in enumerate(classes)]
    return {**view, "chart": chart, "per_class": per_class}


def _grid(value: Any) -> list[list[float | None]] | None:
    """A heat map as rows of numbers (anything else None), or None when it is not a grid."""
    if not isinstance(value, list) or not value or \
            not all(isinstance(line, list) and line for line in value):
        return None
    return [[v if is_number(v) else None for v in line] for line in value]


def _text_attribution(attribution: Mapping) -> dict:
    """Top tokens per twin, example sentences with per-token scores, twin agreement."""
    outcome, view = _network_attribution(attribution)
    twins = _mapping(outcome.get("twins"))
    keys = _ordered_twins(twins)
    top = {}
    for direction in ("positive", "negative"):
        lists = [_mappings(get(twins, key, "top_tokens", direction)) for key in keys]
        depth = max((len(entries) for entries in lists), default=0)
        top[direction] = [[entries[rank] if rank < len(entries) else None for entries in lists]
                          for rank in range(depth)]
    examples = []
    for example in _mappings(outcome.get("examples")):
        tokens = [str(token) for token in _list(example.get("tokens"))]
        entries = {key: entry for key, entry in (example.get("twins") or {}).items()
                   if isinstance(entry, Mapping)} if isinstance(example.get("twins"),
                                                                Mapping) else {}
        scores = {key: [value if is_number(value) else None
                        for value in _list(entry.get("attributions"))][:len(tokens)]
                  for key, entry in entries.items()}
        # One scale per sentence, shared by its twins: their shading compares directly.
        scale = max((abs(v) for values in scores.values() for v in values if v is not None),
                    default=0.0)
        rows = [{"twin": key, "log_odds": entry.get("log_odds"),
                 "baseline_log_odds": entry.get("baseline_log_odds"),
                 "cells": [{"value": value, "colour": diverging_colour(value, scale)}
                           for value in scores[key] + [None] * (len(tokens) - len(scores[key]))]}
                for key, entry in entries.items()]
        group = example.get("group")
        examples.append({"tokens": tokens, "label": example.get("label"),
                         "group": group if isinstance(group, Mapping) else {}, "rows": rows})
    return {**view, "twins": keys, "top": top, "examples": examples}


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _mappings(value: Any) -> list[Mapping]:
    """The mappings of a list (a reshaped or hand-edited results file may hold anything)."""
    return [entry for entry in _list(value) if isinstance(entry, Mapping)]


def _twins_by_framework(twins: Mapping) -> dict[str, list[Mapping]]:
    """Twin entries keyed "framework/seed", grouped by framework."""
    grouped: dict[str, list[Mapping]] = {}
    for key, entry in twins.items():
        if isinstance(entry, Mapping):
            grouped.setdefault(str(key).split("/")[0], []).append(entry)
    return grouped


def _mean(values: list) -> float | None:
    numbers = [float(v) for v in values if is_number(v)]
    return sum(numbers) / len(numbers) if numbers else None


def _importance_chart(outcome: Any, features: list[str]):
    """Mean |attribution| per feature, both frameworks side by side, top features overall."""
    if not isinstance(outcome, Mapping) or not features:
        return None
    importance: dict[str, list[float]] = {}
    for framework, entries in _twins_by_framework(outcome.get("twins") or {}).items():
        rows = [entry["global_importance"] for entry in _ok(entries)
                if len(entry.get("global_importance") or []) == len(features)]
        if rows:
            importance[framework] = [sum(column) / len(rows) for column in zip(*rows, strict=True)]
    if not importance:
        return None
    overall = [max(values[i] for values in importance.values()) for i in range(len(features))]
    top = sorted(range(len(features)), key=lambda i: overall[i], reverse=True)[:TOP_FEATURES]
    series = {f"{framework} (mean of {len(_twins_by_framework(outcome['twins'])[framework])} "
              "seeds)": [Bar(values[i]) for i in top]
              for framework, values in importance.items()}
    return bar_chart([features[i] for i in top], series,
                     title=f"Integrated Gradients: global importance, top {len(top)} features",
                     value_label="mean |attribution| (log-odds)", digits=3)
