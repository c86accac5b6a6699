"""The verdict section: checks and the three key numbers."""

from __future__ import annotations

from twinaudit.report import render_report

from report_helpers import full_results


def test_verdict_has_checks_and_the_three_key_numbers():
    html = render_report(full_results())
    verdict = html[html.index('id="verdict"'):html.index('id="model-card"')]
    assert "✓ PASS" in verdict and "Twin proof (arithmetic)" in verdict
    assert "accuracy" not in verdict or "equivalent within ±0.01" in verdict
    assert "Four-fifths rule, sex, torch" in verdict
    assert "Worst disparity: " in verdict and "CI envelope [" in verdict
    assert "99.77 %" in verdict  # twin agreement
    assert "torch 0.852" in verdict  # mean accuracy over the two seeds
    assert "! WARN" in verdict  # the small "Other" group and four-fifths violations


def test_the_verdict_sets_accuracy_against_the_majority_class():
    html = render_report(full_results())
    assert ("mean test accuracy torch 0.852, keras 0.852 against 0.764 for always predicting "
            "the most frequent label") in html
    # A model that barely beats the majority class is said to.
    results = full_results()
    results["data"]["majority_class_rate"]["test"] = 0.845
    html = render_report(results)
    assert "torch, keras barely beat it" in html


def test_the_run_hears_the_majority_class_warning_and_prediction_tables_get_it_too():
    from twinaudit.report.views.verdict import quality_warning

    results = full_results()
    assert quality_warning(results) is None
    results["data"]["majority_class_rate"]["test"] = 0.845
    assert "barely beat it" in quality_warning(results)
    # A prediction table has no twins: its accuracy is the fairness audit's overall one.
    table = {"data": {"majority_class_rate": {"test": 0.9}},
             "fairness": {"twins": {"model": {"0": {"overall": {"metrics": {
                 "accuracy": {"value": 0.905}}}}}}}}
    assert "model 0.905 against 0.9" in quality_warning(table)
    table["data"]["majority_class_rate"]["test"] = 0.6
    assert quality_warning(table) is None


def test_the_worst_disparity_ignores_groups_under_min_group_size():
    import numpy as np
    import pandas as pd
    import pytest

    from twinaudit.fairness.audit import fairness_audit
    from twinaudit.report.views.fairness import fairness_section
    from twinaudit.report.views.verdict import worst_disparity

    # Two large groups selected at 30 % and 40 %, and a 6-row group selected at 100 %.
    groups = np.array(["a"] * 500 + ["b"] * 500 + ["tiny"] * 6)
    y_pred = np.concatenate([np.arange(500) < 150, np.arange(500) < 200, np.ones(6, bool)])
    y_true = np.tile([0, 1], 503)

    def worst(min_group_size):
        audit = fairness_audit(y_true, y_pred.astype(int), None, pd.DataFrame({"g": groups}),
                               group_sets=[["g"]], n_resamples=20, random_state=0,
                               min_group_size=min_group_size)
        return worst_disparity(fairness_section({"twins": {"torch": {"0": audit}}}))

    shown = worst(30)
    assert shown["name"] == "demographic_parity_difference"
    assert shown["mean"] == pytest.approx(0.10)  # 0.40 - 0.30: the tiny group is left out
    assert worst(1)["mean"] == pytest.approx(0.70)  # teeth: counted, it would be the headline
