"""Model quality by group: how well each twin ranks and how well its scores are calibrated,
group by group (ROC AUC, reliability curves, score distributions).

A disparity in error rates can come from a model that ranks one group worse, or from one whose
scores mean different things in different groups; these figures tell the two apart. They
exist only where the audit had scores (a prediction table without a ``score`` column has none).

Seeds are pooled, not averaged: a reliability-curve point is the row-weighted mean over the
seeds' points in that bin, so a bin that held 3 rows in one seed does not count as much as one
that held 300 in another. (Exact for unweighted audits, which every ``twinaudit run`` is; an
audit with sample weights stores weighted bin means, which rows only approximate as weights.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from twinaudit.report.charts import line_chart
from twinaudit.report.formatting import is_number
from twinaudit.report.views._common import get, mean_and_std

#: Reliability curves get one line per group: past this many the chart is unreadable, and the
#: groups with the most rows are drawn.
MAX_CURVES = 8


def model_quality_view(name: str, groups: Sequence[str],
                       entries: Mapping[str, list[dict]]) -> dict | None:
    """The per-group quality figures of one group set, or ``None`` when the audit had no scores.

    ``entries`` is ``{framework: [that group set's entry in each seed's audit]}``.
    """
    quality = {fw: {label: [q for run in runs
                            if isinstance(q := get(run, "groups", label, "model_quality"), Mapping)]
                    for label in groups}
               for fw, runs in entries.items()}
    if not any(seeds for by_group in quality.values() for seeds in by_group.values()):
        return None
    return {
        "auc": [_auc_row(label, quality) for label in groups],
        "charts": [chart for fw, by_group in quality.items()
                   for chart in (_reliability_chart(name, fw, by_group),
                                 _score_chart(name, fw, by_group))],
    }


def _auc_row(label: str, quality: Mapping[str, Mapping[str, list[Mapping]]]) -> dict:
    by_framework = {}
    for fw, by_group in quality.items():
        values = [float(q["roc_auc"]) for q in by_group.get(label, [])
                  if is_number(q.get("roc_auc"))]
        mean, std = mean_and_std(values)
        by_framework[fw] = {"mean": mean, "std": std, "seeds": len(values)}
    return {"label": label, "by_framework": by_framework}


def _largest(by_group: Mapping[str, list[Mapping]],
             rows: Callable[[Mapping], float]) -> list[str]:
    """The groups with rows in them, most rows first, at most :data:`MAX_CURVES`."""
    sizes = {label: sum(rows(q) for q in seeds) for label, seeds in by_group.items()}
    return sorted((label for label, size in sizes.items() if size > 0),
                  key=lambda label: -sizes[label])[:MAX_CURVES]


def _reliability_chart(name: str, framework: str,
                       by_group: Mapping[str, list[Mapping]]) -> Markup:
    def curve_rows(q: Mapping) -> float:
        return sum(r for r in _list(get(q, "calibration_curve", "rows")) if is_number(r))

    series: dict[str, list[tuple[float, float | None]]] = {
        label: _pooled_curve(by_group[label]) for label in _largest(by_group, curve_rows)}
    if any(series.values()):
        # Last, so that each group keeps its line style from the score-distribution chart.
        series["perfect calibration"] = [(0.0, 0.0), (1.0, 1.0)]
    return line_chart(series, title=f"Reliability by {name} — {framework}",
                      x_label="mean score in the bin (seeds pooled)",
                      y_label="share positive")


def _pooled_curve(seeds: list[Mapping]) -> list[tuple[float, float | None]]:
    """Row-weighted mean score and mean label per bin over the seeds; empty bins left out."""
    totals: dict[int, list[float]] = {}
    for q in seeds:
        for index, (rows, score, label) in enumerate(zip(
                *(_list(get(q, "calibration_curve", key))
                  for key in ("rows", "mean_score", "mean_label")), strict=False)):
            if is_number(rows) and rows > 0 and is_number(score) and is_number(label):
                total = totals.setdefault(index, [0.0, 0.0, 0.0])
                total[0] += rows
                total[1] += rows * score
                total[2] += rows * label
    return [(total[1] / total[0], total[2] / total[0])
            for _, total in sorted(totals.items())]


def _score_chart(name: str, framework: str, by_group: Mapping[str, list[Mapping]]) -> Markup:
    def histogram_rows(q: Mapping) -> float:
        return sum(r for r in _list(q.get("score_histogram")) if is_number(r))

    series: dict[str, list[tuple[float, float | None]]] = {}
    for label in _largest(by_group, histogram_rows):
        counts = _pooled_histogram(by_group[label])
        total = sum(counts)
        width = 1 / len(counts)
        # Each bin's share of the group's rows at the bin's centre: groups of any size compare.
        series[label] = [((index + 0.5) * width, count / total)
                         for index, count in enumerate(counts)]
    return line_chart(series, title=f"Score distribution by {name} — {framework}",
                      x_label="score (bin centre; seeds pooled)",
                      y_label="share of the group's rows")


def _pooled_histogram(seeds: list[Mapping]) -> list[float]:
    histograms = [[float(r) if is_number(r) else 0.0 for r in _list(q.get("score_histogram"))]
                  for q in seeds]
    length = max(map(len, histograms))
    return [sum(h[i] for h in histograms if i < len(h)) for i in range(length)]


def _list(node: Any) -> list:
    """A list read from results.json, or an empty one when it is something else."""
    return node if isinstance(node, list) else []
