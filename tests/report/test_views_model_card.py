"""The model card section: the nine headings, unknown fields left to fill."""

from __future__ import annotations

from twinaudit.report import render_report

from report_helpers import full_results


def test_model_card_marks_unknown_fields_as_the_users_to_fill():
    html = render_report(full_results())
    card = html[html.index('id="model-card"'):html.index('id="data"')]
    for heading in ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data",
                    "Training data", "Quantitative analyses", "Ethical considerations",
                    "Caveats and recommendations"):
        assert f"<h3>{heading}</h3>" in card
    assert card.count("to be filled in by the model owner") >= 5
    assert "MLP 90 → 64 → 32 → 2" in card


def test_model_card_fills_the_owners_fields_and_what_the_run_knows():
    results = full_results()
    results["audit"]["spec"] = {"model_card": {
        "owner": "Credit risk team", "licence": "CC-BY-4.0", "intended_use": "triage",
        "out_of_scope_uses": ["automated denial", "pricing"], "risks": ["proxy discrimination"]}}
    results["data"]["filters"] = [{"column": "days", "op": "<=", "value": 30}]
    results["fairness"].setdefault("settings", {})["threshold"] = 0.4
    html = render_report(results)
    card = html[html.index('id="model-card"'):html.index('id="data"')]
    for text in ("owner Credit risk team, licence CC-BY-4.0", "triage",
                 "automated denial; pricing", "proxy discrimination", "days &lt;= 30",
                 "0.4 on the predicted probability"):
        assert text in card, text
    # Fewer fields are left to fill than without the owner's table.
    assert card.count("to be filled in by the model owner") < \
        render_report(full_results()).count("to be filled in by the model owner")
