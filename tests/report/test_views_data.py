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
