"""The mitigation section: before/after in words and the trade-off chart."""

from __future__ import annotations

import pytest

from twinaudit.report import render_report

from report_helpers import full_results


def test_mitigation_has_before_after_words_trade_off_charts_and_a_ranking():
    html = render_report(full_results())
    mitigation = html[html.index('id="mitigation"'):html.index('id="privacy"')]
    # One chart per group set and headline disparity: 2 group sets × 4 disparities, but for
    # disparate impact on sex×race, which has no privileged group to divide by.
    assert mitigation.count("<svg") == 7
    assert "Accuracy vs demographic parity difference (sex×race)" in mitigation
    assert "Accuracy vs disparate impact (sex)" in mitigation
    assert "Accuracy vs disparate impact (sex×race)" not in mitigation
    assert "Pareto front" in mitigation and 'class="error-bar"' in mitigation
    assert "fairer" in mitigation  # the change is said in words, not only in colour
    assert "no mitigation · torch" in mitigation and "reweighing · keras" in mitigation
    assert "Ranking by demographic parity difference (sex)" in mitigation


# -- the trade-off: front and ranking ---------------------------------------------------------

def test_the_pareto_front_keeps_exactly_the_points_nothing_beats_both_ways():
    from twinaudit.report.charts import Point
    from twinaudit.report.views.mitigation import pareto_front

    points = [Point(0.20, 0.85, "baseline"), Point(0.05, 0.84, "fairer, a little worse"),
              Point(0.10, 0.83, "beaten by the one above"), Point(0.02, 0.80, "fairest"),
              Point(0.20, 0.84, "beaten by baseline")]
    assert [p.label for p in pareto_front(points, "demographic_parity_difference")] == [
        "fairest", "fairer, a little worse", "baseline"]
    # A ratio is fair at 1 from either side: 1.05 beats 0.90 at equal accuracy.
    ratios = [Point(0.90, 0.84, "0.90"), Point(1.05, 0.84, "1.05")]
    assert [p.label for p in pareto_front(ratios, "disparate_impact")] == ["1.05"]


def test_the_ranking_orders_by_disparity_within_the_accuracy_budget():
    from twinaudit.report.views.mitigation import rankings

    def side(dp, accuracy):
        return {"accuracy": {"mean": accuracy, "n_seeds": 3},
                "group_sets": {"sex": {"demographic_parity_difference": {"mean": dp}}}}

    def table(before, after, paired=None):
        return {"torch": {
            "accuracy": {"before": before["accuracy"], "after": after["accuracy"]},
            "group_sets": {"sex": {"demographic_parity_difference": {
                "before": before["group_sets"]["sex"]["demographic_parity_difference"],
                "after": after["group_sets"]["sex"]["demographic_parity_difference"],
                "paired": paired}}}}}

    base = side(0.20, 0.85)
    tables = {"cheap": table(base, side(0.10, 0.845), {"reading": "lower"}),
              "best_but_costly": table(base, side(0.01, 0.80), {"reading": "lower"}),
              "noise": table(base, side(0.19, 0.85), {"reading": "no clear change"})}
    (ranking,) = rankings(tables, budget=0.01)
    order = [(row["method"], row["rank"]) for row in ranking["rows"]]
    assert order == [("cheap", 1), ("noise", 2), ("no mitigation", 3),
                     ("best_but_costly", None)]
    readings = {row["method"]: row["reading"] for row in ranking["rows"]}
    assert readings == {"cheap": "fairer", "noise": "no clear change",
                        "no mitigation": "baseline", "best_but_costly": "fairer"}
    # A wider budget lets the costly method lead.
    assert rankings(tables, budget=0.06)[0]["rows"][0]["method"] == "best_but_costly"


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


def test_the_paired_seed_reading_decides_noise_when_there_is_one():
    from twinaudit.report.views.mitigation import direction

    # Envelopes that overlap, but the paired differences all point one way: a clear change.
    assert direction("equalized_odds_difference", figure(0.20, 0.12, 0.28),
                     figure(0.15, 0.08, 0.22), {"reading": "lower"}) == "fairer"
    # Envelopes apart, but the pairs' interval holds 0: seed noise.
    assert direction("equalized_odds_difference", figure(0.20, 0.17, 0.23),
                     figure(0.05, 0.02, 0.08), {"reading": "no clear change"}) == \
        "no clear change"
    # One seed: no paired interval, so the envelopes decide.
    assert direction("equalized_odds_difference", figure(0.20, 0.17, 0.23),
                     figure(0.05, 0.02, 0.08), {"reading": "undecided"}) == "fairer"


def test_a_change_inside_the_intervals_is_no_clear_change():
    from twinaudit.report.views.mitigation import direction

    assert direction("equalized_odds_difference", figure(0.20, 0.12, 0.28),
                     figure(0.15, 0.08, 0.22)) == "no clear change"
    assert direction("equalized_odds_difference", figure(0.20, 0.17, 0.23),
                     figure(0.05, 0.02, 0.08)) == "fairer"
