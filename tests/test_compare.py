"""Comparing runs: shared metrics with deltas and CI overlap, the rest listed, HTML output."""

from __future__ import annotations

import copy
import json

import pytest

from twinaudit.compare import compare_runs, render_comparison, run_labels, write_comparison
from twinaudit.errors import TwinauditError

from report_helpers import (
    SCRIPT_PAYLOAD,
    assert_self_contained,
    assert_well_formed,
    base_results,
    full_results,
    poisoned_results,
)

DPD = ("fairness", "twins", "torch", "0", "group_sets", "sex", "disparities",
       "demographic_parity_difference")
DPD_PATH = ".".join(DPD)


def _at(results: dict, keys: tuple) -> dict:
    for key in keys:
        results = results[key]
    return results


def _metric(comparison: dict, path: str) -> dict:
    return next(m for m in comparison["metrics"] if m["path"] == path)


def test_identical_runs_have_no_changes_and_nothing_incomparable():
    results = full_results()
    comparison = compare_runs([results, copy.deepcopy(results)], ["a", "b"])
    assert comparison["counts"]["metrics"] > 500
    assert comparison["counts"]["changed"] == 0
    assert comparison["not_comparable"] == [] and comparison["differences"] == []
    assert comparison["largest_changes"] == []


def test_deltas_relative_changes_and_ci_overlap():
    before = full_results()
    after = copy.deepcopy(before)
    after["parity"]["proof"]["float32"]["one_step"]["max_ratio"] = 3.0
    entry = _at(after, DPD)
    original = _at(before, DPD)
    entry["value"], entry["ci"] = original["value"] + 0.5, [original["ci"][1] + 0.01,
                                                            original["ci"][1] + 0.2]
    comparison = compare_runs([before, after], ["before", "after"])
    ratio = _metric(comparison, "parity.proof.float32.one_step.max_ratio")
    assert ratio["deltas"] == [pytest.approx(1.5)]
    assert ratio["relative_deltas"] == [pytest.approx(1.0)]
    assert ratio["ci_overlap"] == [None]  # no interval: overlap is not claimed either way
    disparity = _metric(comparison, f"{DPD_PATH}.value")
    assert disparity["deltas"] == [pytest.approx(0.5)] and disparity["ci_overlap"] == [False]
    assert comparison["largest_changes"][0]["path"] == f"{DPD_PATH}.value"  # disjoint first
    assert comparison["counts"] == {**comparison["counts"], "changed": 2, "ci_disjoint": 1}


def test_overlapping_intervals_are_reported_as_overlapping():
    before = full_results()
    after = copy.deepcopy(before)
    _at(after, DPD)["value"] += 0.001
    assert _metric(compare_runs([before, after], ["a", "b"]),
                   f"{DPD_PATH}.value")["ci_overlap"] == [True]


def test_list_items_are_matched_by_identity_not_position():
    first = base_results()
    second = copy.deepcopy(first)
    second["twins"].reverse()
    comparison = compare_runs([first, second], ["a", "b"])
    assert comparison["counts"]["changed"] == 0 and comparison["not_comparable"] == []
    assert _metric(comparison, "twins[framework=keras, seed=1].test_accuracy")


def test_missing_sections_and_kind_changes_are_listed_once_as_not_comparable():
    full, base = full_results(), base_results()
    base["parity"]["proof"]["exact_tolerance"] = "1e-9"
    comparison = compare_runs([full, base], ["full", "base"])
    listed = {n["path"]: n["reason"] for n in comparison["not_comparable"]}
    assert listed == {
        "fairness": "only in full", "mitigation": "only in full",
        "attribution": "only in full", "benchmarks": "only in full",
        "counterfactual": "only in full", "privacy": "only in full",
        "parity.proof.exact_tolerance": "different kinds (full: number, base: text)"}
    assert _metric(comparison, "parity.prediction_agreement.mean")


def test_different_schemas_and_audits_are_compared_where_possible_with_a_note():
    adult, compas = base_results(), base_results("compas")
    compas["schema_version"] = 3
    compas["data"]["name"] = "compas"
    comparison = compare_runs([adult, compas], ["adult", "compas"])
    assert len(comparison["notes"]) == 3
    assert "Different audits (adult: adult, compas: compas)" in comparison["notes"][1]
    assert _metric(comparison, "parity.proof.exact.one_step.max")
    assert {"path": "audit.name", "section": "audit", "values": ["adult", "compas"]} \
        in comparison["differences"]


def test_three_runs_give_deltas_against_the_first():
    runs = [base_results() for _ in range(3)]
    for index, run in enumerate(runs):
        run["parity"]["prediction_agreement"]["mean"] = 0.99 + index / 1000
    metric = _metric(compare_runs(runs, ["a", "b", "c"]), "parity.prediction_agreement.mean")
    assert metric["deltas"] == [pytest.approx(0.001), pytest.approx(0.002)]


@pytest.mark.parametrize("runs, labels", [([{}], ["a"]), ([{}, {}], ["a"]),
                                          ([{}, {}], ["a", "a"])])
def test_bad_arguments_are_errors(runs, labels):
    with pytest.raises(ValueError):
        compare_runs(runs, labels)


def test_comparison_html_is_well_formed_escaped_and_self_contained():
    poisoned = poisoned_results()
    other = copy.deepcopy(poisoned)
    other["audit"]["name"] = "other"
    html = render_comparison(compare_runs([poisoned, other, base_results()],
                                          [SCRIPT_PAYLOAD, "b", "c"]))
    assert_well_formed(html)
    assert_self_contained(html)
    assert "<script>alert" not in html and "<img" not in html
    assert html.count("<script>") == 1
    for section in ("runs", "largest-changes", "differences", "not-comparable"):
        assert f'<section id="{section}">' in html
    assert len(html.encode("utf-8")) < 2_000_000


def test_labels_are_short_and_distinct(tmp_path):
    assert run_labels([tmp_path / "a.json", tmp_path / "b.json"]) == ["a", "b"]
    assert run_labels([tmp_path / "x" / "results.json", tmp_path / "y" / "results.json"]) \
        == ["x/results", "y/results"]


def test_write_comparison_reads_files_and_writes_html(tmp_path):
    paths = []
    for name in ("before", "after"):
        folder = tmp_path / name
        folder.mkdir()
        results = base_results()
        if name == "after":
            results["parity"]["prediction_agreement"]["mean"] = 0.95
        paths.append(folder / "results.json")
        paths[-1].write_text(json.dumps(results))
    output = write_comparison(paths, tmp_path / "out" / "compare.html")
    html = output.read_text(encoding="utf-8")
    assert "twinaudit comparison: before/results vs after/results" in html
    assert "−0.048" in html  # 0.95 − 0.9977
    assert list((tmp_path / "out").iterdir()) == [output]  # no temporary file left behind


def test_write_comparison_errors_name_the_file(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(base_results()))
    with pytest.raises(TwinauditError, match="missing.json"):
        write_comparison([good, tmp_path / "missing.json"], tmp_path / "c.html")
    with pytest.raises(TwinauditError, match="at least two"):
        write_comparison([good], tmp_path / "c.html")
    assert not (tmp_path / "c.html").exists()
