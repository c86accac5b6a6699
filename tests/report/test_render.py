"""The HTML run report as a whole: sections in order, defensive reading, escaping,
well-formed and self-contained output."""

from __future__ import annotations

import copy

import pytest

from twinaudit.report import render_report
from twinaudit.report.render import SECTIONS

from helpers import write_small_audit
from report_helpers import (
    assert_self_contained,
    assert_well_formed,
    base_results,
    full_results,
    poisoned_results,
    section_ids,
)


def test_every_section_in_reading_order_with_all_data():
    html = render_report(full_results())
    assert section_ids(html) == [id_ for id_, _ in SECTIONS]
    assert_well_formed(html)
    assert_self_contained(html)


def test_optional_sections_left_out_when_their_data_is_missing():
    html = render_report(base_results())
    assert section_ids(html) == ["verdict", "model-card", "data", "parity", "environment"]
    assert ("Not part of this run: fairness, mitigation, privacy, attribution, benchmarks."
            in html)
    assert_well_formed(html)


@pytest.mark.slow
def test_default_audit_run_renders_well_formed_with_its_sections(tmp_path):
    from twinaudit.pipeline import run_audit
    from twinaudit.spec import load_spec

    spec = load_spec(write_small_audit(tmp_path, train_rows=600, test_rows=300, epochs=2))
    outcome = run_audit(spec, output_dir=tmp_path / "out", models_dir=tmp_path / "models")
    html = outcome.report_path.read_text(encoding="utf-8")
    ids = section_ids(html)
    expected = [id_ for id_, _ in SECTIONS
                if id_ in ("verdict", "model-card", "environment")
                or id_.replace("model-card", "x") in outcome.results]
    assert ids == expected
    assert {"verdict", "model-card", "data", "parity", "environment"} <= set(ids)
    assert_well_formed(html)
    assert_self_contained(html)
    assert len(html.encode("utf-8")) < 2_000_000


@pytest.mark.parametrize("broken", [
    lambda r: r.pop("parity"),
    lambda r: r["parity"].pop("accuracy"),
    lambda r: r.update(fairness={"twins": {}}),
    lambda r: r.update(fairness={"unexpected": [1, 2, {"x": None}]}),
    lambda r: r.update(mitigation={"reweighing": {"note": "no audits"}}),
    lambda r: r.update(attribution={"method": "ig"}),
    lambda r: r.update(benchmarks={"rows": [{"name": "x"}]}),
    lambda r: r.update(benchmarks=[]),
    lambda r: r.pop("environment"),
    lambda r: r["data"].pop("groups"),
    lambda r: r["fairness"]["twins"]["keras"].clear(),
])
def test_partial_or_unexpected_results_still_render(broken):
    results = full_results()
    broken(results)
    html = render_report(results)
    assert_well_formed(html)
    assert {"verdict", "model-card", "environment"} <= set(section_ids(html))


def test_user_data_is_escaped_never_markup():
    html = render_report(poisoned_results())
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # ours, the sortable tables
    assert_well_formed(html)


def test_report_of_the_default_size_is_under_two_megabytes():
    results = full_results()
    assert len(render_report(results).encode("utf-8")) < 2_000_000


def test_rendering_does_not_modify_the_results():
    results = full_results()
    before = copy.deepcopy(results)
    render_report(results)
    assert results == before
