"""Fairness and mitigation figures gathered from results.json for the report.

Every twin (framework × seed) has its own fairness audit. The report never shows one seed's
number as "the" number: a figure is the mean over seeds with the seed-to-seed standard
deviation, and its interval is the *envelope* of the seeds' bootstrap intervals (lowest lower
bound to highest upper bound) — wider than any one seed's, and labelled as such.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twinaudit.report.charts import Bar, Point, bar_chart, scatter_chart
from twinaudit.report.formatting import is_number
from twinaudit.report.tree import find

#: The disparities a reader scans first; the rest stay in the full table.
HEADLINE_DISPARITIES = ("demographic_parity_difference", "equalized_odds_difference",
                        "equal_opportunity_difference", "disparate_impact")
#: Where a lower value is fairer; for ratios (disparate impact) closer to 1 — higher — is.
LOWER_IS_FAIRER_SUFFIX = "_difference"
CHART_METRICS = (("selection_rate", "Selection rate"),
                 ("true_positive_rate", "True positive rate"))
_KNOWN_FRAMEWORKS = ("torch", "keras", "jax")
_BASELINE_KEYS = {"before", "baseline", "unmitigated"}


@dataclass
class TwinAudit:
    """One fairness audit and the twin it belongs to."""

    framework: str
    seed: str
    audit: dict


@dataclass
class Aggregate:
    """A figure over seeds: mean, seed standard deviation, and the envelope of seed CIs."""

    mean: float | None = None
    std: float | None = None
    low: float | None = None
    high: float | None = None
    n_seeds: int = 0
    values: list[float] = field(default_factory=list)

    @property
    def ci(self) -> list[float] | None:
        return None if self.low is None or self.high is None else [self.low, self.high]


def aggregate(entries: Sequence[Mapping[str, Any] | None]) -> Aggregate:
    """Combine ``{"value", "ci"}`` entries of several seeds into one :class:`Aggregate`."""
    values = [e["value"] for e in entries if isinstance(e, Mapping) and is_number(e.get("value"))]
    intervals = [e["ci"] for e in entries if isinstance(e, Mapping)
                 and isinstance(e.get("ci"), list) and len(e["ci"]) == 2
                 and all(map(is_number, e["ci"]))]
    if not values:
        return Aggregate()
    return Aggregate(
        mean=statistics.fmean(values),
        std=statistics.stdev(values) if len(values) > 1 else None,
        low=min(ci[0] for ci in intervals) if intervals else None,
        high=max(ci[1] for ci in intervals) if intervals else None,
        n_seeds=len(values), values=values)


# ---------------------------------------------------------------------------------------------
# Finding the audits


def is_fairness_audit(node: Any) -> bool:
    """A ``fairness_audit`` output (and not a summary across seeds, which looks alike)."""
    return (isinstance(node, dict) and isinstance(node.get("group_sets"), dict)
            and isinstance(node.get("overall"), dict) and not is_seed_summary(node))


def is_seed_summary(node: Any) -> bool:
    """The output of ``summarise_across_seeds``: a verdict per disparity across frameworks."""
    return (isinstance(node, dict) and "rule" in node and isinstance(node.get("frameworks"), list)
            and isinstance(node.get("group_sets"), dict))


def twin_audits(tree: Any) -> list[TwinAudit]:
    """Every fairness audit under ``tree``, with framework and seed read off the way there.

    A key equal to a framework name (or a ``{"framework": ...}`` wrapper) names the framework;
    a whole-number key, ``seedN``, or a ``{"seed": ...}`` wrapper names the seed.
    """
    found = []
    for path, audit in find(tree, is_fairness_audit):
        framework, seed = "twin", "?"
        node = tree
        for key in path:
            if isinstance(node, dict):
                framework = str(node.get("framework", framework))
                seed = str(node.get("seed", seed))
            text = str(key)
            if text in _KNOWN_FRAMEWORKS:
                framework = text
            elif text.isdigit() or (text.startswith("seed") and text[4:].isdigit()):
                seed = text.removeprefix("seed")
            node = node[key]
        found.append(TwinAudit(framework, seed, audit))
    return found


def by_framework(audits: Sequence[TwinAudit]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for twin in sorted(audits, key=lambda t: (_framework_order(t.framework), _seed_order(t.seed))):
        grouped.setdefault(twin.framework, []).append(twin.audit)
    return grouped


def _framework_order(name: str) -> tuple[int, str]:
    return (_KNOWN_FRAMEWORKS.index(name) if name in _KNOWN_FRAMEWORKS else 99, name)


def _seed_order(seed: str) -> tuple[int, str]:
    return (int(seed), "") if seed.isdigit() else (10 ** 9, seed)


# ---------------------------------------------------------------------------------------------
# The fairness section


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
    }


def _overall_rows(grouped: Mapping[str, list[dict]]) -> list[dict]:
    first = next(iter(grouped.values()))[0]
    return [{"metric": metric,
             "by_framework": {fw: aggregate([a["overall"].get("metrics", {}).get(metric)
                                             for a in runs]) for fw, runs in grouped.items()}}
            for metric in first["overall"].get("metrics", {})]


def _group_set_view(name: str, grouped: Mapping[str, list[dict]], summary: dict | None) -> dict:
    entries = {fw: [a["group_sets"].get(name, {}) for a in runs] for fw, runs in grouped.items()}
    first = next(iter(entries.values()))[0]
    groups = list(first.get("groups", {}))
    group_rows = [_group_row(label, entries) for label in groups]
    disparity_names = [d for d in first.get("disparities", {})
                       if d != "four_fifths_rule_violated"]
    verdicts = (summary or {}).get("group_sets", {}).get(name, {})
    return {
        "name": name,
        "columns": first.get("columns", []),
        "status": first.get("status", "ok"),
        "reason": first.get("reason"),
        "privileged_group": first.get("privileged_group"),
        "groups": group_rows,
        "small_groups": [row for row in group_rows if row["small_group"]],
        "charts": [_group_chart(name, metric, title, groups, entries)
                   for metric, title in CHART_METRICS],
        "disparities": [_disparity_row(d, entries, verdicts.get(d)) for d in disparity_names],
        "four_fifths": _four_fifths(entries),
    }


def _group_row(label: str, entries: Mapping[str, list[dict]]) -> dict:
    first = next(iter(entries.values()))[0]["groups"][label]
    metrics = {}
    for metric in first.get("metrics", {}):
        metrics[metric] = {fw: aggregate([e.get("groups", {}).get(label, {}).get("metrics", {})
                                          .get(metric) for e in runs])
                           for fw, runs in entries.items()}
    return {"label": label, "count": first.get("count"),
            "small_group": bool(first.get("small_group")), "metrics": metrics}


def _group_chart(name: str, metric: str, title: str, groups: list[str],
                 entries: Mapping[str, list[dict]]):
    series = {}
    for framework, runs in entries.items():
        bars = []
        for label in groups:
            figure = aggregate([run.get("groups", {}).get(label, {}).get("metrics", {})
                                .get(metric) for run in runs])
            note = f" (mean of {figure.n_seeds} seeds; CI envelope)" if figure.n_seeds else ""
            bars.append(Bar(figure.mean, figure.low, figure.high, note))
        series[f"{framework} (mean of {len(runs)} seed{'s' if len(runs) != 1 else ''})"] = bars
    return bar_chart(groups, series, title=f"{title} by group — {name}",
                     value_label=f"{title.lower()}; error bars: envelope of the seeds' CIs",
                     domain=(0.0, 1.0))


def _disparity_row(name: str, entries: Mapping[str, list[dict]], verdict: Any) -> dict:
    figures = {}
    for framework, runs in entries.items():
        items = [run.get("disparities", {}).get(name) for run in runs]
        figure = aggregate(items)
        worst = {i.get("worst_group") for i in items if isinstance(i, Mapping)} - {None}
        reference = {i.get("reference_group") for i in items if isinstance(i, Mapping)} - {None}
        reasons = {i.get("reason") for i in items if isinstance(i, Mapping)} - {None}
        figures[framework] = {"figure": figure, "worst_group": ", ".join(sorted(worst)),
                              "reference_group": ", ".join(sorted(reference)),
                              "reason": "; ".join(sorted(reasons))}
    return {"name": name, "headline": name in HEADLINE_DISPARITIES, "by_framework": figures,
            "verdict": verdict if isinstance(verdict, Mapping) else None}


def _four_fifths(entries: Mapping[str, list[dict]]) -> dict:
    """Per framework: in how many seeds the four-fifths rule is violated, and the ratio."""
    result = {}
    for framework, runs in entries.items():
        flags = [run.get("disparities", {}).get("four_fifths_rule_violated") or {} for run in runs]
        decided = [f["value"] for f in flags if isinstance(f.get("value"), bool)]
        result[framework] = {"violated": sum(decided), "decided": len(decided),
                             "ratio": aggregate([{"value": f.get("ratio"), "ci": f.get("ci")}
                                                 for f in flags])}
    return result


def worst_disparity(section: dict | None) -> dict | None:
    """The largest headline difference over group sets, for the verdict's key numbers."""
    if not section:
        return None
    best = None
    for group_set in section["group_sets"]:
        for row in group_set["disparities"]:
            if not (row["headline"] and row["name"].endswith(LOWER_IS_FAIRER_SUFFIX)):
                continue
            figures = [f["figure"] for f in row["by_framework"].values()
                       if f["figure"].mean is not None]
            if not figures:
                continue
            mean = statistics.fmean(f.mean for f in figures)
            if best is None or mean > best["mean"]:
                lows = [f.low for f in figures if f.low is not None]
                highs = [f.high for f in figures if f.high is not None]
                best = {"name": row["name"], "group_set": group_set["name"], "mean": mean,
                        "ci": [min(lows), max(highs)] if lows and highs else None,
                        "n_twins": sum(f.n_seeds for f in figures)}
    return best


# ---------------------------------------------------------------------------------------------
# The mitigation section


def mitigation_section(mitigation: Any, fairness: Any) -> dict | None:
    """Before/after rows per mitigation method and the accuracy-vs-disparity trade-off chart.

    "Before" is the unmitigated fairness audit of the same twins (``results["fairness"]``, or
    a ``before`` entry inside the method's own block); "after" is every other audit found
    under the method.
    """
    if not isinstance(mitigation, dict):
        return None
    methods = _methods(mitigation)
    baseline = twin_audits(fairness) if fairness is not None else []
    views = []
    for method, block in methods.items():
        before = _inner_baseline(block) or baseline
        after = twin_audits(_strip_baselines(block))
        rows = _before_after_rows(before, after) if after else _precomputed_rows(block)
        if rows:
            views.append({"method": method, "rows": rows, "after": after, "before": before,
                          "settings": _settings(block)})
    if not views:
        return None
    return {"methods": views, "chart": _trade_off_chart(views)}


def _methods(mitigation: dict) -> dict[str, Any]:
    if twin_audits(mitigation) and isinstance(mitigation.get("method"), str):
        return {mitigation["method"]: mitigation}
    return {str(name): block for name, block in mitigation.items() if isinstance(block, dict)}


def _inner_baseline(block: dict) -> list[TwinAudit]:
    for key in _BASELINE_KEYS:
        if key in block:
            return twin_audits(block[key])
    return []


def _strip_baselines(block: dict) -> dict:
    return {key: value for key, value in block.items() if key not in _BASELINE_KEYS}


def _settings(block: dict) -> dict[str, Any]:
    return {key: value for key, value in block.items()
            if isinstance(value, str | int | float | bool) or (
                isinstance(value, list) and all(isinstance(v, str | int | float) for v in value))}


def _first_group_set(audits: Sequence[TwinAudit]) -> str | None:
    for twin in audits:
        return next(iter(twin.audit["group_sets"]), None)
    return None


def _before_after_rows(before: list[TwinAudit], after: list[TwinAudit]) -> list[dict]:
    before_by, after_by = by_framework(before), by_framework(after)
    rows = []
    for framework, after_runs in after_by.items():
        before_runs = before_by.get(framework, [])

        def row(metric: str, group_set: str | None, extract) -> dict:
            first = aggregate([extract(a) for a in before_runs])
            second = aggregate([extract(a) for a in after_runs])
            return _change_row(metric, group_set, framework, first, second)

        rows.append(row("accuracy", None,
                        lambda a: a["overall"].get("metrics", {}).get("accuracy")))
        for group_set in after_runs[0]["group_sets"]:
            for disparity in HEADLINE_DISPARITIES:
                rows.append(row(disparity, group_set, lambda a, g=group_set, d=disparity:
                                a["group_sets"].get(g, {}).get("disparities", {}).get(d)))
    return [r for r in rows if r["before"].mean is not None or r["after"].mean is not None]


def _precomputed_rows(block: dict) -> list[dict]:
    """Rows from a ready-made before/after table: ``{framework: {"accuracy": {"before",
    "after"}, "group_sets": {name: {disparity: {"before", "after"}}}}}``."""
    rows = []
    for framework, table in block.items():
        if not (isinstance(table, dict) and isinstance(table.get("accuracy"), dict)
                and "before" in table["accuracy"]):
            continue
        figures = [("accuracy", None, table["accuracy"])]
        for group_set, disparities in table.get("group_sets", {}).items():
            figures += [(name, group_set, disparities[name]) for name in HEADLINE_DISPARITIES
                        if name in disparities]
        for metric, group_set, entry in figures:
            rows.append(_change_row(metric, group_set, framework, _from_summary(entry["before"]),
                                    _from_summary(entry["after"])))
    for _, nested in block.items():
        if not rows and isinstance(nested, dict):
            rows = _precomputed_rows(nested)
    return rows


def _from_summary(entry: Any) -> Aggregate:
    if not isinstance(entry, Mapping):
        return Aggregate()
    ci = entry.get("ci_first_seed") or entry.get("ci")
    ok = isinstance(ci, list) and len(ci) == 2 and all(map(is_number, ci))
    return Aggregate(mean=entry.get("mean"), std=entry.get("std"),
                     low=ci[0] if ok else None, high=ci[1] if ok else None,
                     n_seeds=entry.get("n_seeds") or 0)


def _change_row(metric: str, group_set: str | None, framework: str, before: Aggregate,
                after: Aggregate) -> dict:
    change = (after.mean - before.mean if is_number(before.mean) and is_number(after.mean)
              else None)
    return {"metric": metric, "group_set": group_set, "framework": framework, "before": before,
            "after": after, "change": change, "direction": _direction(metric, change)}


def _direction(metric: str, change: float | None) -> str:
    """Say in words whether a change is an improvement: colour must not carry it alone."""
    if change is None or abs(change) < 5e-4:
        return "unchanged"
    if metric == "accuracy":
        return "better" if change > 0 else "worse"
    if metric.endswith(LOWER_IS_FAIRER_SUFFIX) or metric.startswith("predictive_parity"):
        return "fairer" if change < 0 else "less fair"
    return "fairer" if change > 0 else "less fair"  # ratios: closer to 1 is fairer


def _trade_off_chart(views: list[dict]):
    """Accuracy against the first group set's demographic parity difference, per twin."""
    series: dict[str, list[Point]] = {}
    group_set = None
    before = views[0]["before"]
    for label, audits in [("no mitigation", before)] + [(v["method"], v["after"]) for v in views]:
        group_set = group_set or _first_group_set(audits)
        for twin in audits:
            x = _disparity_value(twin.audit, group_set, "demographic_parity_difference")
            y = (twin.audit["overall"].get("metrics", {}).get("accuracy") or {}).get("value")
            if is_number(x) and is_number(y):
                series.setdefault(f"{label} · {twin.framework}", []).append(
                    Point(x, y, f"seed {twin.seed}"))
    if not series:
        return None
    return scatter_chart(series, title=f"Accuracy vs disparity ({group_set}), one point per twin",
                         x_label="demographic parity difference (lower is fairer)",
                         y_label="accuracy")


def _disparity_value(audit: dict, group_set: str | None, name: str) -> Any:
    entry = audit["group_sets"].get(group_set or "", {}).get("disparities", {}).get(name) or {}
    return entry.get("value")
