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
