"""The mitigation section: before/after rows per method and the accuracy-vs-disparity chart."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twinaudit.report.charts import Point, scatter_chart
from twinaudit.report.formatting import is_number
from twinaudit.report.views._common import (
    HEADLINE_DISPARITIES,
    LOWER_IS_FAIRER_SUFFIX,
    Aggregate,
    TwinAudit,
    aggregate,
    by_framework,
    get,
    is_interval,
    twin_audits,
)

_BASELINE_KEYS = {"before", "baseline", "unmitigated"}


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

        # The loop's values are bound as defaults (B023); row is only called in this iteration.
        def row(metric: str, group_set: str | None, extract: Callable[..., Any],
                before_runs: list[dict] = before_runs,
                after_runs: list[dict] = after_runs, framework: str = framework) -> dict:
            first = aggregate([extract(a) for a in before_runs])
            second = aggregate([extract(a) for a in after_runs])
            return _change_row(metric, group_set, framework, first, second)

        rows.append(row("accuracy", None,
                        lambda a: get(a, "overall", "metrics", "accuracy")))
        for group_set in get(after_runs[0], "group_sets", default={}):
            for disparity in HEADLINE_DISPARITIES:
                rows.append(row(disparity, group_set, lambda a, g=group_set, d=disparity:
                                get(a, "group_sets", g, "disparities", d)))
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
    ci: Any = entry.get("ci_first_seed") or entry.get("ci")  # a [low, high] list when ok
    ok = is_interval(ci)
    return Aggregate(mean=entry.get("mean"), std=entry.get("std"),
                     low=ci[0] if ok else None, high=ci[1] if ok else None,
                     n_seeds=entry.get("n_seeds") or 0)


def _change_row(metric: str, group_set: str | None, framework: str, before: Aggregate,
                after: Aggregate) -> dict:
    change = (after.mean - before.mean if is_number(before.mean) and is_number(after.mean)
              else None)
    return {"metric": metric, "group_set": group_set, "framework": framework, "before": before,
            "after": after, "change": change, "direction": direction(metric, before, after)}


def fairness_of(metric: str, value: float) -> float:
    """How fair a value reads, higher being fairer, in the metric's own sense.

    A difference is fair at 0 whichever its sign (statistical parity difference is signed):
    −|d|. A ratio (disparate impact, the ``*_ratio`` disparities) is fair at 1 from either
    side: min(r, 1/r), so 2.357 → 0.854 is a move *towards* parity and 1.065 → 1.078 away.
    """
    if metric.endswith(LOWER_IS_FAIRER_SUFFIX) or metric.startswith("predictive_parity"):
        return -abs(value)
    if value <= 0:
        return 0.0  # a ratio of rates is never negative; 0 is as far from parity as it gets
    return min(value, 1.0 / value)


def direction(metric: str, before: Aggregate, after: Aggregate) -> str:
    """Say in words whether a change is an improvement: colour must not carry it alone.

    "no clear change" when the change is within rounding (5e-4) or the two figures' interval
    envelopes overlap — a change the seeds' own intervals cannot tell from noise.
    """
    if not (is_number(before.mean) and is_number(after.mean)):
        return "unchanged"
    change = after.mean - before.mean
    if abs(change) < 5e-4 or _overlap(before, after):
        return "no clear change"
    if metric == "accuracy":
        return "better" if change > 0 else "worse"
    gain = fairness_of(metric, after.mean) - fairness_of(metric, before.mean)
    return "fairer" if gain > 0 else "less fair"


def _overlap(before: Aggregate, after: Aggregate) -> bool:
    """Whether both figures have interval envelopes and they overlap."""
    if before.low is None or before.high is None or after.low is None or after.high is None:
        return False
    return after.low <= before.high and before.low <= after.high


def _trade_off_chart(views: list[dict]):
    """Accuracy against the first group set's demographic parity difference, per twin."""
    series: dict[str, list[Point]] = {}
    group_set = None
    before = views[0]["before"]
    for label, audits in [("no mitigation", before)] + [(v["method"], v["after"]) for v in views]:
        group_set = group_set or _first_group_set(audits)
        for twin in audits:
            x = _disparity_value(twin.audit, group_set, "demographic_parity_difference")
            y = get(twin.audit, "overall", "metrics", "accuracy", "value")
            if is_number(x) and is_number(y):
                series.setdefault(f"{label} · {twin.framework}", []).append(
                    Point(x, y, f"seed {twin.seed}"))
    if not series:
        return None
    return scatter_chart(series, title=f"Accuracy vs disparity ({group_set}), one point per twin",
                         x_label="demographic parity difference (lower is fairer)",
                         y_label="accuracy")


def _disparity_value(audit: dict, group_set: str | None, name: str) -> Any:
    return get(audit, "group_sets", group_set or "", "disparities", name, "value")
