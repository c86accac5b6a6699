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
