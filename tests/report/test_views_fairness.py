"""The fairness section: bars with error bars, both twins, small groups."""

from __future__ import annotations

from twinaudit.report import render_report

from report_helpers import full_results


def test_fairness_section_has_bars_with_error_bars_and_both_twins():
    html = render_report(full_results())
    fairness = html[html.index('id="fairness"'):html.index('id="mitigation"')]
    assert fairness.count('class="whisker"') > 4
    assert "torch (mean of 2 seeds)" in fairness and "keras (mean of 2 seeds)" in fairness
    assert "four-fifths rule" in fairness
    assert "Small groups." in fairness  # Other×Female and Other×Male have under 30 rows
    assert "within seed noise" in fairness
