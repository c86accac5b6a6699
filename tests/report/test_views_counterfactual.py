"""The report's counterfactual identity test and task notes, from hand-built results."""

from __future__ import annotations

from twinaudit.report import render_report
from twinaudit.report.views import counterfactual_section

from report_helpers import base_results, counterfactual_results


def test_gaps_are_means_over_seeds_with_the_first_seeds_interval():
    view = counterfactual_section({"counterfactual": counterfactual_results()})
    (category,) = view["categories"]
    female = next(row for row in category["rows"] if row["group"] == "female")
    torch = female["by_framework"]["torch"]
    assert abs(torch["mean"] - 0.025) < 1e-12  # (0.02 + 0.03) / 2
    assert torch["ci_first_seed"] == [0.01, 0.03]
    assert counterfactual_section({}) is None


def test_the_section_renders_escaped_and_is_not_listed_missing_elsewhere():
    results = base_results()
    html = render_report(results)
    assert 'id="counterfactual"' not in html
    assert "counterfactual" not in html.split("Not part of this run")[-1].split(".")[0]
    results["counterfactual"] = counterfactual_results()
    html = render_report(results)
    section = html[html.index('id="counterfactual"'):]
    assert "she, mary" in section and "0.0250" in section
    assert "&lt;b&gt;review&lt;/b&gt;" in section and "<b>review" not in section
