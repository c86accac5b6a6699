"""The privacy section: per-framework attack rows from the twins' figures, ROC curves on
log–log axes with the chance line, leakage by group with the gap, and the DP budgets' table,
charts and per-group accuracy loss."""

import pytest

from twinaudit.report import render_report
from twinaudit.report.views.privacy import privacy_section

from report_helpers import assert_well_formed, full_results


def test_privacy_section_reads_attacks_groups_and_budgets():
    results = full_results()
    view = privacy_section(results)
    (attack,) = view["attacks"]
    twins = results["privacy"]["attacks"]["loss_threshold"]["twins"]
    torch_row = next(row for row in attack["rows"] if row["framework"] == "torch")
    own = [twin["overall"]["auc"] for twin in twins if twin["framework"] == "torch"]
    assert torch_row["auc"] == pytest.approx(sum(own) / len(own))
    assert torch_row["n_seeds"] == 2
    assert "chance (TPR = FPR)" in attack["chart"] and "<svg" in attack["chart"]
    groups = {row["group"] for row in attack["groups"]}
    assert {"Female", "Male"} <= groups and any(g.startswith("gap: ") for g in groups)
    (budget,) = view["budgets"]
    assert budget["epsilon"]["rdp"] == 1.0 and budget["proof"]["passed"]
    # Accuracy and the four headline disparities of the first group set against ε.
    assert len(view["charts"]) == 5
    assert any(row.get("versus") for row in budget["groups"])


def test_the_report_shows_privacy_between_mitigation_and_attribution():
    html = render_report(full_results())
    assert_well_formed(html)
    section = html[html.index('id="privacy"'):html.index('id="attribution"')]
    assert "Loss threshold (Yeom et al. 2018)" in section
    assert "Accuracy each group loses to DP-SGD" in section
    assert section.count("<svg") == 1 + 5  # one ROC chart, five budget charts


def test_no_privacy_block_no_section():
    assert privacy_section({"twins": []}) is None
