"""The benchmarks section: the columns a reader compares, and twin vs plain timings."""

from __future__ import annotations

from collections.abc import Mapping

from twinaudit.report.charts import Bar, bar_chart
from twinaudit.report.formatting import is_number
from twinaudit.report.tree import flatten

#: The columns a reader compares; every other figure of a row stays in results.json.
BENCHMARK_COLUMNS = ("name", "framework", "implementation", "median_s", "p99_s", "ratio",
                     "ratio_ci", "reference", "accuracy", "rows_per_second",
                     "seconds_to_target", "peak_memory_mib", "rounds")


def benchmarks_section(results: dict) -> dict | None:
    benchmarks = results.get("benchmarks")
    rows = benchmarks.get("rows") if isinstance(benchmarks, Mapping) else benchmarks
    if not isinstance(rows, list) or not rows:
        return None
    rows = [row for row in rows if isinstance(row, Mapping)]
    present = {key for row in rows for key, value in row.items() if value is not None}
    columns = [c for c in BENCHMARK_COLUMNS if c in present]
    series: dict[str, list[Bar | None]] = {}
    # The chart is for comparisons measured side by side (twin vs plain); times of different
    # operations span microseconds to seconds and belong in the table.
    compared = {str(row.get("name")) for row in rows if row.get("implementation") == "plain"}
    charted = [row for row in rows if str(row.get("name")) in compared] or rows
    names = list(dict.fromkeys(str(row.get("name")) for row in charted))
    for row in charted:
        label = " ".join(str(row[key]) for key in ("framework", "implementation")
                         if row.get(key) and row.get(key) != "twin") or "—"
        series.setdefault(label, [None] * len(names))
        if is_number(row.get("median_s")):
            series[label][names.index(str(row.get("name")))] = Bar(row["median_s"] * 1e3)
    title = ("Median time, twin vs plain code in the same run" if compared
             else "Median time per benchmark")
    chart = bar_chart(names, series, title=title, value_label="ms",
                      digits=2) if any(b for bars in series.values() for b in bars) else None
    machine = benchmarks.get("machine") if isinstance(benchmarks, Mapping) else None
    return {"rows": rows, "columns": columns, "chart": chart,
            "machine": flatten(machine) if isinstance(machine, Mapping) else {},
            "notes": benchmarks.get("notes") if isinstance(benchmarks, Mapping) else None}
