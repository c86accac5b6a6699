"""The mitigation section: before/after in words and the trade-off chart."""

from __future__ import annotations

from twinaudit.report import render_report

from report_helpers import full_results


def test_mitigation_has_before_after_words_and_a_trade_off_chart():
    html = render_report(full_results())
    mitigation = html[html.index('id="mitigation"'):html.index('id="attribution"')]
    assert "Accuracy vs disparity" in mitigation
    assert "fairer" in mitigation  # the change is said in words, not only in colour
    assert "no mitigation · torch" in mitigation and "reweighing · keras" in mitigation
