"""The fairness section: every twin's audit gathered over seeds, and what the outcome means.

A figure is the mean over seeds ± the seed standard deviation with the envelope of the seeds'
intervals (see :mod:`twinaudit.report.views._common`); torch and Keras side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twinaudit.report.charts import Bar, bar_chart
from twinaudit.report.tree import find
from twinaudit.report.views._common import (
    HEADLINE_DISPARITIES,
    aggregate,
    by_framework,
    get,
    is_seed_summary,
    twin_audits,
)
from twinaudit.report.views.model_quality import model_quality_view

CHART_METRICS = (("selection_rate", "Selection rate"),
                 ("true_positive_rate", "True positive rate"))

#: How each interval method is named to a reader (results.json's ``interval_methods``).
INTERVAL_METHODS = {
    "wilson": "Wilson score interval (an exact Poisson bound at 1–3 events)",
    "clopper_pearson": "Clopper–Pearson exact interval",
    "bca_bootstrap": "BCa bootstrap (bias-corrected and accelerated)",
}
MULTIPLICITY_METHODS = {"holm": "Holm's step-down adjustment",
                        "benjamini_hochberg": "the Benjamini–Hochberg false-discovery rate",
                        "none": "no adjustment"}


def fairness_section(fairness: Any) -> dict | None:
    """Everything the fairness section shows, or ``None`` when there is no audit to show."""
    audits = twin_audits(fairness)
    if not audits:
        return None
    grouped = by_framework(audits)
    summaries = [node for _, node in find(fairness, is_seed_summary)]
    summary = summaries[0] if summaries else None
    first = next(iter(grouped.values()))[0]
    return {
        "frameworks": list(grouped),
        "seeds": {framework: len(runs) for framework, runs in grouped.items()},
        "confidence": first.get("confidence"),
        "n_resamples": first.get("n_resamples"),
        "small_group_rows": first.get("small_group_rows", 30),
        "overall": _overall_rows(grouped),
        "group_sets": [_group_set_view(name, grouped, summary)
                       for name in first["group_sets"]],
        "rule": summary.get("rule") if summary else None,
        "interval_methods": _interval_methods(first.get("interval_methods")),
        "multiplicity": _multiplicity(get(fairness, "multiplicity")),
    }


def _interval_methods(methods: Any) -> list[dict]:
    """``[{"method": reader's name, "figures": [...]}]``: which interval each figure carries."""
    if not isinstance(methods, Mapping):
        return []
    grouped: dict[str, list[str]] = {}
    for figure, method in methods.items():
        grouped.setdefault(str(method), []).append(str(figure))
    return [{"method": INTERVAL_METHODS.get(method, method), "figures": figures}
            for method, figures in grouped.items()]


def _multiplicity(summary: Any) -> dict | None:
    """How many "this disparity is not zero" tests the run made, and how many it flags."""
    if not isinstance(summary, Mapping) or not isinstance(summary.get("comparisons"), int):
        return None
    method = str(summary.get("method"))
    return {"method": MULTIPLICITY_METHODS.get(method, method),
            "alpha": summary.get("alpha"), "comparisons": summary["comparisons"],
            "flagged": summary.get("flagged")}


def _overall_rows(grouped: Mapping[str, list[dict]]) -> list[dict]:
    first = next(iter(grouped.values()))[0]
    return [{"metric": metric,
             "by_framework": {fw: aggregate([get(a, "overall", "metrics", metric)
                                             for a in runs]) for fw, runs in grouped.items()}}
            for metric in _keys(get(first, "overall", "metrics"))]


def _group_set_view(name: str, grouped: Mapping[str, list[dict]], summary: dict | None) -> dict:
    entries = {fw: [get(a, "group_sets", name, default={}) for a in runs]
               for fw, runs in grouped.items()}
    first = next(iter(entries.values()))[0]
    groups = _keys(get(first, "groups"))
    group_rows = [_group_row(label, entries) for label in groups]
    disparity_names = [d for d in _keys(get(first, "disparities"))
                       if d != "four_fifths_rule_violated"]
    verdicts = get(summary, "group_sets", name, default={})
    excluded = get(first, "excluded_groups")
    excluded = excluded if isinstance(excluded, list) else []
    return {
        "name": name,
        "columns": first.get("columns", []),
        "status": first.get("status", "ok"),
        "reason": first.get("reason"),
        "privileged_group": first.get("privileged_group"),
        "groups": group_rows,
        "small_groups": [row for row in group_rows if row["small_group"]],
        "excluded_groups": [entry for entry in excluded if isinstance(entry, Mapping)],
        "model_quality": model_quality_view(name, groups, entries),
        "charts": [_group_chart(name, metric, title, groups, entries)
                   for metric, title in CHART_METRICS],
        "disparities": [_disparity_row(d, entries, verdicts.get(d)) for d in disparity_names],
        "four_fifths": _four_fifths(entries),
    }


def _group_row(label: str, entries: Mapping[str, list[dict]]) -> dict:
    first = get(next(iter(entries.values()))[0], "groups", label, default={})
    metrics = {}
    for metric in _keys(get(first, "metrics")):
        metrics[metric] = {fw: aggregate([get(e, "groups", label, "metrics", metric)
                                          for e in runs])
                           for fw, runs in entries.items()}
    return {"label": label, "count": first.get("count"),
            "small_group": bool(first.get("small_group")), "metrics": metrics}


def _group_chart(name: str, metric: str, title: str, groups: list[str],
                 entries: Mapping[str, list[dict]]):
    series = {}
    for framework, runs in entries.items():
        bars = []
        for label in groups:
            figure = aggregate([get(run, "groups", label, "metrics", metric) for run in runs])
            note = f" (mean of {figure.n_seeds} seeds; CI envelope)" if figure.n_seeds else ""
            bars.append(Bar(figure.mean, figure.low, figure.high, note))
        series[f"{framework} (mean of {len(runs)} seed{'s' if len(runs) != 1 else ''})"] = bars
    return bar_chart(groups, series, title=f"{title} by group — {name}",
                     value_label=f"{title.lower()}; error bars: envelope of the seeds' CIs",
                     domain=(0.0, 1.0))


def _disparity_row(name: str, entries: Mapping[str, list[dict]], verdict: Any) -> dict:
    figures = {}
    for framework, runs in entries.items():
        items = [get(run, "disparities", name) for run in runs]
        figure = aggregate(items)
        # JSON values from results.json: group names, as written by the fairness audit.
        worst: set[Any] = {i.get("worst_group") for i in items if isinstance(i, Mapping)} - {None}
        reference: set[Any] = {i.get("reference_group") for i in items
                               if isinstance(i, Mapping)} - {None}
        reasons: set[Any] = {i.get("reason") for i in items if isinstance(i, Mapping)} - {None}
        tested = [i["nonzero"] for i in items
                  if isinstance(i, Mapping) and isinstance(i.get("nonzero"), bool)]
        figures[framework] = {"figure": figure, "worst_group": ", ".join(sorted(worst)),
                              "reference_group": ", ".join(sorted(reference)),
                              "reason": "; ".join(sorted(reasons)),
                              # In how many seeds the adjusted test says "not zero".
                              "nonzero": (sum(tested), len(tested)) if tested else None}
    return {"name": name, "headline": name in HEADLINE_DISPARITIES, "by_framework": figures,
            "verdict": verdict if isinstance(verdict, Mapping) else None}


def _four_fifths(entries: Mapping[str, list[dict]]) -> dict:
    """Per framework: in how many seeds the four-fifths rule is violated, and the ratio."""
    result = {}
    for framework, runs in entries.items():
        flags = [get(run, "disparities", "four_fifths_rule_violated") or {} for run in runs]
        decided = [f["value"] for f in flags if isinstance(f.get("value"), bool)]
        result[framework] = {"violated": sum(decided), "decided": len(decided),
                             "ratio": aggregate([{"value": f.get("ratio"), "ci": f.get("ci")}
                                                 for f in flags])}
    return result


def task_notes(results: Mapping) -> dict:
    """What the fairness outcome means for non-binary tasks, and anomaly thresholds (shown at
    the end of the fairness section)."""
    fairness = results.get("fairness")
    anomaly = results.get("anomaly")
    return {
        "outcome": fairness.get("outcome") if isinstance(fairness, Mapping) else None,
        "anomaly": anomaly if isinstance(anomaly, Mapping) else None,
    }


def _keys(node: Any) -> list[str]:
    """The keys of a mapping read from results.json, or none when it is not one."""
    return [str(key) for key in node] if isinstance(node, Mapping) else []
