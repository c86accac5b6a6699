"""The mitigation section: before/after in words and the trade-off chart."""

from __future__ import annotations

import pytest

from twinaudit.report import render_report

from report_helpers import full_results


def test_mitigation_has_before_after_words_and_a_trade_off_chart():
    html = render_report(full_results())
    mitigation = html[html.index('id="mitigation"'):html.index('id="attribution"')]
    assert "Accuracy vs disparity" in mitigation
    assert "fairer" in mitigation  # the change is said in words, not only in colour
    assert "no mitigation · torch" in mitigation and "reweighing · keras" in mitigation


# -- readings that follow the metric ---------------------------------------------------------

def figure(mean, low=None, high=None):
    from twinaudit.report.views._common import Aggregate

    return Aggregate(mean=mean, low=low, high=high, n_seeds=3)


@pytest.mark.parametrize("metric, before, after, expected", [
    # Disparate impact is fair at 1 from either side: the values the review found misread.
    ("disparate_impact", 2.357, 0.854, "fairer"),
    ("disparate_impact", 1.065, 1.078, "less fair"),
    ("demographic_parity_ratio", 0.70, 0.90, "fairer"),
    ("demographic_parity_ratio", 1.10, 1.40, "less fair"),
    # Signed differences are fair at 0 whichever the sign.
    ("statistical_parity_difference", -0.30, -0.10, "fairer"),
    ("statistical_parity_difference", -0.10, 0.25, "less fair"),
    ("equalized_odds_difference", 0.20, 0.05, "fairer"),
    ("accuracy", 0.84, 0.83, "worse"),
    ("accuracy", 0.84, 0.8401, "no clear change"),  # within rounding
])
def test_a_change_reads_by_the_metrics_own_sense_of_fair(metric, before, after, expected):
    from twinaudit.report.views.mitigation import direction

    assert direction(metric, figure(before), figure(after)) == expected


def test_a_change_inside_the_intervals_is_no_clear_change():
    from twinaudit.report.views.mitigation import direction

    assert direction("equalized_odds_difference", figure(0.20, 0.12, 0.28),
                     figure(0.15, 0.08, 0.22)) == "no clear change"
    assert direction("equalized_odds_difference", figure(0.20, 0.17, 0.23),
                     figure(0.05, 0.02, 0.08)) == "fairer"
