"""The data section: provenance, licence, caveat and group sizes."""

from __future__ import annotations

from twinaudit.report import render_report

from report_helpers import full_results


def test_data_section_shows_provenance_licence_and_caveat():
    html = render_report(full_results())
    data = html[html.index('id="data"'):html.index('id="parity"')]
    assert "CC BY 4.0" in data and "UCI Machine Learning Repository" in data
    assert "Caveat." in data and "not a basis for decisions" in data
    assert "Group sizes and base rates by <code>race</code>" in data


WARNINGS = [
    {"kind": "id_like", "column": "case_number",
     "message": "column 'case_number' looks like an identifier (4,000 distinct values in 4,000 "
                "rows): a model can only memorise it; list it in drop_columns"},
    {"kind": "leak", "column": "<b>paid</b>",
     "message": "column '<b>paid</b>' alone predicts the label with ROC AUC 1.000"},
    {"kind": "many_levels", "column": "branch", "message": "categorical column 'branch' has "
                                                            "150 levels"},
]


def _data_part(html: str) -> str:
    return html[html.index('id="data"'):html.index('id="parity"')]


def test_input_warnings_are_listed_in_the_data_section():
    from twinaudit.report.views import data_section

    results = full_results()
    results["data"]["warnings"] = WARNINGS
    view = data_section(results)
    assert view is not None
    assert [row["heading"] for row in view["warnings"]] == [
        "ID-like column", "Possible leak", "Many levels"]
    data = _data_part(render_report(results))
    assert 'id="data-warnings"' in data and "Warnings about the model inputs (3)" in data
    assert data.count("<li>") == 3
    assert "<strong>ID-like column</strong> <code>case_number</code>: column 'case_number' " \
           "looks like an identifier" in data.replace("&#39;", "'")
    assert "&lt;b&gt;paid&lt;/b&gt;" in data and "<b>paid</b>" not in data  # escaped
    assert "ROC AUC 1.000" in data and "150 levels" in data


def test_no_warnings_no_list():
    results = full_results()
    assert 'id="data-warnings"' not in _data_part(render_report(results))
    for empty in ([], None, "not a list", [{"kind": "leak"}, 3]):
        results["data"]["warnings"] = empty
        assert 'id="data-warnings"' not in _data_part(render_report(results))
