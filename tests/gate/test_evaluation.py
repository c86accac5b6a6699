"""Tests of twinaudit.gate.evaluation: documents, bounds, fail-closed behaviour, baselines."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from twinaudit.gate.errors import GateInputError, Verdict
from twinaudit.gate.evaluation import evaluate, load_document
from twinaudit.gate.output import render_markdown, render_table
from twinaudit.gate.rules import load_rules

# --- the issue's own scenarios -------------------------------------------------------------


def test_results_against_themselves_pass_with_default_rules(make_results) -> None:
    results = make_results()
    report = evaluate(results, copy.deepcopy(results), load_rules())
    assert report.exit_code == 0
    assert report.count(Verdict.FAIL) == 0
    assert report.count(Verdict.PASS) >= 4


def test_baseline_with_accuracy_raised_fails_and_names_the_rule(make_results) -> None:
    results = make_results()
    baseline = copy.deepcopy(results)
    baseline["parity"]["accuracy"]["by_framework"]["torch"]["mean"] += 0.05
    report = evaluate(results, baseline, load_rules())
    assert report.exit_code == 1
    [failure] = report.failures
    assert failure.rule == "accuracy.no_drop"
    assert failure.path == "parity.accuracy.by_framework.torch.mean"
    assert "accuracy.no_drop" in render_table(report)
    assert "accuracy.no_drop" in render_markdown(report)


def test_drop_exactly_at_the_limit_passes(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.torch.mean"\nmax_drop = 0.01')
    results, baseline = make_results(), make_results()
    results["parity"]["accuracy"]["by_framework"]["torch"]["mean"] = 0.85
    baseline["parity"]["accuracy"]["by_framework"]["torch"]["mean"] = 0.86
    assert evaluate(results, baseline, rules).exit_code == 0


def test_missing_metric_fails_closed(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "parity.step0.no_such_metric"\nmax = 1')
    report = evaluate(make_results(), None, rules)
    assert report.exit_code == 1
    [check] = report.checks
    assert check.verdict is Verdict.FAIL
    assert "missing" in check.message and "no_such_metric" in check.message


def test_metric_missing_from_baseline_fails_closed(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.torch.mean"\nmax_drop = 0.01')
    baseline = make_results()
    del baseline["parity"]["accuracy"]["by_framework"]["torch"]
    [check] = evaluate(make_results(), baseline, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "baseline" in check.message


def test_optional_rule_with_missing_path_is_skipped(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "attribution.score"\nmin = 0\nrequired = false')
    report = evaluate(make_results(), None, rules)
    assert [check.verdict for check in report.checks] == [Verdict.SKIPPED]
    assert report.exit_code == 0


def test_relative_rule_without_baseline_is_an_input_error(make_results) -> None:
    with pytest.raises(GateInputError, match="accuracy.no_drop.*no baseline"):
        evaluate(make_results(), None, load_rules())


# --- documents -----------------------------------------------------------------------------


def test_results_of_another_schema_version_is_an_input_error(tmp_path: Path, make_results) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(make_results() | {"schema_version": 3}), encoding="utf-8")
    with pytest.raises(GateInputError, match=r"results\.json.*schema_version is 3"):
        load_document(path)


def test_baseline_of_another_schema_version_is_an_input_error(make_results) -> None:
    baseline = make_results() | {"schema_version": 0}
    with pytest.raises(GateInputError, match="baseline"):
        evaluate(make_results(), baseline, load_rules())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"schema_version": 1, "kind": "other"}', "kind"),
        ('{"kind": "twinaudit.results"}', "schema_version is None"),
    ],
)
def test_unusable_documents_are_input_errors(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GateInputError, match=expected):
        load_document(path)


# --- bounds --------------------------------------------------------------------------------


def test_absolute_bounds(tmp_path: Path, make_results, rules_from) -> None:
    rules = rules_from(
        """
[[rule]]
name = "step0"
path = "parity.step0.max_abs_logit_diff"
max = 1e-7
[[rule]]
name = "gap"
path = "parity.accuracy.difference"
min = 0.0
max = 0.01
[[rule]]
name = "noise"
path = "parity.accuracy.within_seed_noise"
equals = true
[[rule]]
name = "noise-as-number"
path = "parity.accuracy.within_seed_noise"
equals = 1
""",
        tmp_path,
    )
    verdicts = {check.rule: check.verdict for check in evaluate(make_results(), None, rules).checks}
    assert verdicts == {
        "step0": Verdict.FAIL,
        "gap": Verdict.PASS,
        "noise": Verdict.PASS,
        "noise-as-number": Verdict.FAIL,  # true is not the number 1
    }


def test_non_numeric_value_under_a_numeric_bound_fails(
    tmp_path: Path, make_results, one_rule
) -> None:
    rules = one_rule(tmp_path, 'path = "audit.name"\nmax = 1')
    [check] = evaluate(make_results(), None, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "finite number" in check.message


def test_nan_value_fails(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "parity.step0.max_abs_logit_diff"\nmax = 1')
    results = make_results()
    results["parity"]["step0"]["max_abs_logit_diff"] = float("nan")
    assert evaluate(results, None, rules).exit_code == 1


def test_max_increase_ci_uses_the_sibling_half_width(
    tmp_path: Path, make_results, one_rule
) -> None:
    rules = one_rule(
        tmp_path,
        'path = "fairness.torch.sex.disparities.demographic_parity_difference.value"\n'
        'max_increase_ci = "ci"',
    )
    # The baseline's value is 0.18 and the half-width of this run's [0.16, 0.20] is 0.02.
    for value, verdict in ((0.195, Verdict.PASS), (0.205, Verdict.FAIL)):
        results = make_results()
        entry = results["fairness"]["torch"]["sex"]["disparities"]["demographic_parity_difference"]
        entry["value"] = value
        [check] = evaluate(results, make_results(), rules).checks
        assert check.verdict is verdict, (value, check)


def test_max_increase_ci_with_missing_interval_fails(
    tmp_path: Path, make_results, one_rule
) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.difference"\nmax_increase_ci = "ci"')
    [check] = evaluate(make_results(), make_results(), rules).checks
    assert check.verdict is Verdict.FAIL
    assert "'ci'" in check.message


def test_magnitude_catches_a_signed_disparity_growing_more_negative(
    tmp_path: Path, make_results, one_rule
) -> None:
    body = 'path = "fairness.torch.sex.disparities.statistical_parity_difference.value"\n'
    results = make_results()
    disparities = results["fairness"]["torch"]["sex"]["disparities"]
    disparities["statistical_parity_difference"]["value"] = -0.30
    signed = evaluate(results, make_results(), one_rule(tmp_path, body + "max_increase = 0.05"))
    by_size = evaluate(
        results, make_results(), one_rule(tmp_path, body + "max_increase = 0.05\nmagnitude = true")
    )
    assert signed.exit_code == 0
    assert by_size.exit_code == 1


def test_warn_severity_reports_but_does_not_fail(tmp_path: Path, make_results, one_rule) -> None:
    body = 'path = "parity.step0.max_abs_logit_diff"\nmax = 0\nseverity = "warn"'
    rules = one_rule(tmp_path, body)
    report = evaluate(make_results(), None, rules)
    assert [check.verdict for check in report.checks] == [Verdict.WARN]
    assert report.exit_code == 0


def test_a_value_undefined_in_both_runs_is_skipped_but_one_that_vanished_fails(
    tmp_path, make_results, one_rule
):
    rules = one_rule(tmp_path, 'path = "parity.accuracy.difference"\nmax_increase = 0.01')
    results, baseline = make_results(), make_results()
    results["parity"]["accuracy"]["difference"] = None
    baseline["parity"]["accuracy"]["difference"] = None
    (check,) = evaluate(results, baseline, rules).checks
    assert check.verdict is Verdict.SKIPPED and "not computable" in check.message
    baseline["parity"]["accuracy"]["difference"] = 0.001
    (check,) = evaluate(results, baseline, rules).checks
    assert check.verdict is Verdict.FAIL


# --- pairing with the baseline -------------------------------------------------------------


def test_glob_relative_rule_fails_when_a_baseline_match_vanishes(
    tmp_path: Path, make_results, one_rule
) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.*.mean"\nmax_drop = 0.01')
    results = make_results()
    del results["parity"]["accuracy"]["by_framework"]["keras"]
    report = evaluate(results, make_results(), rules)
    verdicts = {check.path: check.verdict for check in report.checks}
    assert verdicts == {
        "parity.accuracy.by_framework.torch.mean": Verdict.PASS,
        "parity.accuracy.by_framework.keras.mean": Verdict.FAIL,
    }


def test_selector_relative_rule_pairs_items_by_identity_not_position(
    tmp_path: Path, make_results, one_rule
) -> None:
    body = 'path = "benchmarks.rows[framework=torch].ratio"\nmax_increase = 0.01'
    rules = one_rule(tmp_path, body)
    baseline = make_results()
    baseline["benchmarks"]["rows"].reverse()
    assert evaluate(make_results(), baseline, rules).exit_code == 0
