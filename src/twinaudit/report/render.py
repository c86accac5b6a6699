"""Render results.json into one self-contained HTML file (Jinja2, autoescape on)."""

from __future__ import annotations

import jinja2

from twinaudit.report.charts import line_chart


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("twinaudit.report", "templates"),
        # Column names and category values come from users' data: never markup.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = _number
    return environment


def _number(value, digits: int = 3) -> str:
    """Sensible precision: significant digits, scientific for tiny values, '—' for missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.2e}"
    return f"{value:.{digits}f}"


def divergence_chart(parity: dict):
    series = {}
    for row in parity["per_seed"]:
        series[f"seed {row['seed']}"] = [
            (point["epoch"] + 1, point["max_abs_logit_diff"]) for point in row["divergence"]]
    return line_chart(series, title="Torch–Keras divergence over training",
                      x_label="epoch", y_label="max |Δ logit| (test)", log_y=True)


def render_report(results: dict) -> str:
    """The HTML report of one run; sections appear only when their data is in the results."""
    template = _environment().get_template("report.html.j2")
    charts = {}
    if "parity" in results:
        charts["divergence"] = divergence_chart(results["parity"])
    return template.render(results=results, charts=charts)
