"""The mitigation section: before/after rows per method, the accuracy-vs-disparity trade-off
charts (one per group set and headline disparity, every method × framework a point with its
seed intervals both ways, the Pareto front marked) and a ranking of the methods by the
disparity they reach within an accuracy budget."""

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
#: The ranking's accuracy budget when the audit definition does not state one
#: (``[mitigation] max_accuracy_cost``).
DEFAULT_ACCURACY_BUDGET = 0.01
NO_MITIGATION = "no mitigation"


def mitigation_section(mitigation: Any, fairness: Any, settings: Any = None) -> dict | None:
    """Before/after rows per mitigation method, the trade-off charts and the ranking.

    ``settings`` is the audit definition's ``[mitigation]`` as results.json records it; its
    ``max_accuracy_cost`` is the ranking's accuracy budget.

    "Before" is the unmitigated fairness audit of the same twins (``results["fairness"]``, or
    a ``before`` entry inside the method's own block); "after" is every other audit found
    under the method. Where a method's block has its ``before_after`` table, the readings use
    its paired seed statistics and the charts and ranking are drawn from it.
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
        _read_pairs(rows, block.get("before_after"))
        if rows:
            views.append({"method": method, "rows": rows, "after": after, "before": before,
                          "settings": _settings(block)})
    if not views:
        return None
    budget = get(settings, "max_accuracy_cost")
    accuracy_budget = budget if is_number(budget) else DEFAULT_ACCURACY_BUDGET
    tables = {method: block["before_after"] for method, block in methods.items()
              if isinstance(block.get("before_after"), dict)}
    return {"methods": views, "charts": trade_off_charts(tables),
            "rankings": rankings(tables, accuracy_budget), "accuracy_budget": accuracy_budget}


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


def direction(metric: str, before: Aggregate, after: Aggregate,
              paired: Mapping[str, Any] | None = None) -> str:
    """Say in words whether a change is an improvement: colour must not carry it alone.

    "no clear change" when the change is within rounding (5e-4), or inside seed noise: with
    the paired seed statistics (``paired``, :func:`twinaudit.audits.equivalence.paired_change`)
    when their interval holds 0, else when the two figures' interval envelopes overlap.
    """
    if not (is_number(before.mean) and is_number(after.mean)):
        return "unchanged"
    change = after.mean - before.mean
    reading = paired.get("reading") if isinstance(paired, Mapping) else None
    if reading in ("higher", "lower"):
        noise = False
    elif reading == "no clear change":
        noise = True
    else:  # one seed, or no pairs: the interval envelopes are all there is
        noise = _overlap(before, after)
    if abs(change) < 5e-4 or noise:
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


def _read_pairs(rows: list[dict], table: Any) -> None:
    """Give each row its paired seed statistics from the method's ``before_after`` table, and
    read its direction with them."""
    if not isinstance(table, Mapping):
        return
    for row in rows:
        keys = (["accuracy"] if row["metric"] == "accuracy" else
                ["group_sets", row["group_set"], row["metric"]])
        paired = get(table, row["framework"], *keys, "paired")
        if isinstance(paired, Mapping):
            row["paired"] = paired
            row["direction"] = direction(row["metric"], row["before"], row["after"], paired)


def _points(tables: Mapping[str, Any], group_set: str, disparity: str
            ) -> dict[str, list[Point]]:
    """One point per (method, framework), and the baseline twins' per framework, at their
    means over seeds with the seeds' t intervals as error bars."""
    series: dict[str, list[Point]] = {}
    for method, table in tables.items():
        for framework, entry in table.items():
            accuracy = get(entry, "accuracy")
            figure = get(entry, "group_sets", group_set, disparity)
            for label, side in ((NO_MITIGATION, "before"), (method, "after")):
                name = f"{label} · {framework}"
                if label == NO_MITIGATION and name in series:
                    continue
                x, y = get(figure, side, "mean"), get(accuracy, side, "mean")
                if is_number(x) and is_number(y):
                    series[name] = [Point(x, y, f"{get(figure, side, 'n_seeds')} seeds",
                                          _pair(get(figure, side, "seed_ci")),
                                          _pair(get(accuracy, side, "seed_ci")))]
    return series


def _pair(interval: Any) -> tuple[float, float] | None:
    return (interval[0], interval[1]) if is_interval(interval) else None


def pareto_front(points: Sequence[Point], metric: str) -> list[Point]:
    """The points no other point beats on both accuracy (higher) and fairness (the metric's
    own sense: :func:`fairness_of`), in order of disparity."""
    def beaten(p: Point) -> bool:
        return any(q.y >= p.y and fairness_of(metric, q.x) >= fairness_of(metric, p.x)
                   and (q.y > p.y or fairness_of(metric, q.x) > fairness_of(metric, p.x))
                   for q in points)

    return sorted((p for p in points if not beaten(p)), key=lambda p: p.x)


def _group_sets(tables: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for table in tables.values():
        for entry in table.values():
            names += [name for name in get(entry, "group_sets", default={}) if name not in names]
    return names


def trade_off_charts(tables: Mapping[str, Any]) -> list[dict]:
    """Accuracy against each headline disparity, one chart per group set and disparity."""
    charts = []
    for group_set in _group_sets(tables):
        for disparity in HEADLINE_DISPARITIES:
            series = _points(tables, group_set, disparity)
            if not series:
                continue
            sense = ("lower is fairer" if disparity.endswith(LOWER_IS_FAIRER_SUFFIX)
                     else "closer to 1 is fairer")
            styles = _styles(series, tables)
            series = dict(sorted(series.items(), key=lambda item: styles[item[0]]))
            front = pareto_front([p for points in series.values() for p in points], disparity)
            charts.append({"group_set": group_set, "disparity": disparity, "chart": scatter_chart(
                series, title=f"Accuracy vs {disparity.replace('_', ' ')} ({group_set}), "
                              "means over seeds with their intervals",
                x_label=f"{disparity.replace('_', ' ')} ({sense})", y_label="accuracy",
                front=front, front_label="Pareto front", width=820, height=360,
                styles=styles)})
    return charts


def _styles(series: Mapping[str, Any], tables: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """Colour names the method, marker shape the framework."""
    methods = [NO_MITIGATION, *tables]
    frameworks: list[str] = []
    styles = {}
    for name in series:
        method, framework = name.split(" · ", 1)
        if framework not in frameworks:
            frameworks.append(framework)
        styles[name] = (methods.index(method), frameworks.index(framework))
    return styles


def rankings(tables: Mapping[str, Any], budget: float) -> list[dict]:
    """Per group set: every method × framework ranked by the first headline disparity it
    reaches, among those that cost at most ``budget`` accuracy (mean over seeds); the others
    follow, unranked. The baseline twins are a row of their own (cost 0)."""
    disparity = HEADLINE_DISPARITIES[0]
    out = []
    for group_set in _group_sets(tables):
        entries = []
        for name, points in _points(tables, group_set, disparity).items():
            label, framework = name.split(" · ", 1)
            table = tables.get(label) or next(iter(tables.values()))
            entry = get(table, framework)
            side = "before" if label == NO_MITIGATION else "after"
            figure = get(entry, "group_sets", group_set, disparity)
            accuracy = get(entry, "accuracy")
            cost = (0.0 if label == NO_MITIGATION else
                    get(accuracy, "before", "mean") - get(accuracy, "after", "mean"))
            paired = None if label == NO_MITIGATION else get(figure, "paired")
            reading = ("baseline" if paired is None else
                       direction(disparity, _aggregate(figure, "before"),
                                 _aggregate(figure, side), paired))
            entries.append({"method": label, "framework": framework, "disparity": points[0].x,
                            "disparity_ci": get(figure, side, "seed_ci"),
                            "accuracy": points[0].y, "cost": cost, "reading": reading,
                            "accuracy_reading": "baseline" if label == NO_MITIGATION else
                            direction("accuracy", _aggregate(accuracy, "before"),
                                      _aggregate(accuracy, side), get(accuracy, "paired")),
                            "within_budget": cost <= budget + 1e-12})
        entries.sort(key=lambda e: (not e["within_budget"],
                                    -fairness_of(disparity, e["disparity"])))
        for rank, entry in enumerate(entries, start=1):
            entry["rank"] = rank if entry["within_budget"] else None
        out.append({"group_set": group_set, "disparity": disparity, "rows": entries})
    return out


def _aggregate(figure: Any, side: str) -> Aggregate:
    interval = get(figure, side, "seed_ci")
    ok = is_interval(interval)
    return Aggregate(mean=get(figure, side, "mean"), low=interval[0] if ok else None,
                     high=interval[1] if ok else None, n_seeds=get(figure, side, "n_seeds") or 0)
