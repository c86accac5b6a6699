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


def test_wrong_typed_fairness_entries_render_as_missing_not_as_a_crash():
    import pytest

    results = full_results()
    twin = next(iter(next(iter(results["fairness"]["twins"].values())).values()))
    group_set = next(iter(twin["group_sets"].values()))
    for key, wrong in (("groups", 7), ("disparities", None)):
        broken = dict(group_set, **{key: wrong})
        twin["group_sets"] = {name: broken for name in twin["group_sets"]}
        html = render_report(results)
        assert "Fairness" in html
    twin["overall"] = {"metrics": [1, 2]}
    with pytest.raises(AssertionError):  # the check itself bites: a valid document differs
        assert render_report(results) == render_report(full_results())
