"""The inline SVG charts: escaped labels, meaning beyond colour, the heat map's scale."""

from __future__ import annotations

from twinaudit.report.charts import (
    Bar,
    Point,
    bar_chart,
    diverging_colour,
    heat_map,
    line_chart,
    scatter_chart,
)
from twinaudit.vocabulary import FRAMEWORKS

from report_helpers import IMG_PAYLOAD, SCRIPT_PAYLOAD


def test_charts_escape_labels_and_encode_meaning_beyond_colour():
    series = dict(zip(FRAMEWORKS[:2], ([Bar(0.4, 0.3, 0.5)], [Bar(0.5)]), strict=True))
    bars = bar_chart([SCRIPT_PAYLOAD], series, title=IMG_PAYLOAD, value_label="rate")
    assert "<script>" not in bars and "<img" not in bars
    assert "url(#chart-" in bars  # the second series is hatched, not only recoloured
    assert ">0.400<" in bars  # the value is printed
    lines = line_chart({"seed 0": [(1, 1e-6), (2, 1e-3)], "seed 1": [(1, None), (2, 0.0)]},
                       title="t", x_label="epoch", y_label="y", log_y=True)
    assert 'stroke-dasharray' in lines
    scatter = scatter_chart({"a": [Point(0.1, 0.8)], "b": [Point(0.2, 0.7)]}, title="t",
                            x_label="x", y_label="y")
    assert "<circle" in scatter and "<rect" in scatter  # distinct marker shapes
    assert "No data" in bar_chart([], {}, title="t", value_label="v")


def test_heat_map_scale_is_symmetric_and_marks_missing_values():
    svg = heat_map([[[[1.0, -0.5], [None, 0.0]]]], row_labels=["r"], column_labels=["c"],
                   title="t", value_label="v")
    assert f'fill="{diverging_colour(1.0, 1.0)}"' in svg
    assert diverging_colour(0.0, 1.0) == "#ffffff"
    assert diverging_colour(-1.0, 1.0) == "#0072b2" and diverging_colour(2.0, 1.0) == "#d55e00"
    assert "<title>no value</title>" in svg and "<title>±0</title>" in svg
    assert "No data" in heat_map([[None]], row_labels=["r"], column_labels=["c"], title="t",
                                 value_label="v")
