"""Tests for the regression gate: paths, rules, verdicts, outputs and baselines."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pytest

from twinaudit.gate import (
    AnyItem,
    GateInputError,
    Index,
    Key,
    Select,
    Verdict,
    bootstrap_ratio_of_medians,
    evaluate,
    format_path,
    load_document,
    load_rules,
    parse_path,
    parse_rules,
    promote_baseline,
    render_markdown,
    render_table,
    write_junit,
)


def make_results() -> dict[str, Any]:
    """A small but complete schema-1 results document."""
    return {
        "schema_version": 1,
        "kind": "twinaudit.results",
        "audit": {"name": "adult"},
        "parity": {
            "step0": {"max_abs_logit_diff": 3e-7, "tolerance": 1e-5, "passed": True},
            "one_step": {"max_rel_param_diff": 2e-8, "tolerance": 1e-6, "passed": True},
            "accuracy": {
                "by_framework": {
                    "torch": {"mean": 0.851, "std": 0.002, "values": [0.85, 0.853, 0.85]},
                    "keras": {"mean": 0.850, "std": 0.002, "values": [0.849, 0.851, 0.85]},
                },
                "difference": 0.001,
                "within_seed_noise": True,
            },
        },
        "fairness": {
            framework: {
                "sex": {
                    "disparities": {
                        "demographic_parity_difference": {"value": 0.18, "ci": [0.16, 0.20]},
                        "statistical_parity_difference": {"value": -0.18, "ci": [-0.2, -0.16]},
                    }
                }
            }
            for framework in ("torch", "keras")
        },
        "benchmarks": {
            "rows": [
                {"name": "train_epoch", "framework": "torch", "ratio": 1.03},
                {"name": "train_epoch", "framework": "keras", "ratio": 1.10},
            ]
        },
    }


def rules_from(text: str, tmp_path: Path) -> list:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def one_rule(tmp_path: Path, body: str) -> list:
    return rules_from(f'[[rule]]\nname = "under-test"\n{body}\n', tmp_path)


def timings(center: float, count: int, seed: int, spread: float = 0.03) -> list[float]:
    return np.random.default_rng(seed).lognormal(np.log(center), spread, count).tolist()


# --- paths --------------------------------------------------------------------------------


def test_parse_path_reads_every_segment_kind() -> None:
    segments = parse_path('a."b.c"[2][-1].rows[*].x[name=epoch, framework=torch].*_gap')
    assert segments == (
        Key("a"),
        Key("b.c"),
        Index(2),
        Index(-1),
        Key("rows"),
        AnyItem(),
        Key("x"),
        Select((("name", "epoch"), ("framework", "torch"))),
        Key("*_gap", is_pattern=True),
    )


@pytest.mark.parametrize("text", ["", "a.", "a..b", "a[", "a[]", "a]b", "[0]", 'a."b'])
def test_parse_path_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_path(text)


@pytest.mark.parametrize(
    "text",
    ["a.b", '"a.b".c', "rows[name=x,framework=torch].ratio", "v[-1]", "r[*].s", 'r[n="a,b"]'],
)
def test_format_path_round_trips(text: str) -> None:
    assert parse_path(format_path(parse_path(text))) == parse_path(text)


# --- the issue's own scenarios ------------------------------------------------------------


def test_results_against_themselves_pass_with_default_rules() -> None:
    results = make_results()
    report = evaluate(results, copy.deepcopy(results), load_rules())
    assert report.exit_code == 0
    assert report.count(Verdict.FAIL) == 0
    assert report.count(Verdict.PASS) >= 4


def test_baseline_with_accuracy_raised_fails_and_names_the_rule() -> None:
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


def test_drop_exactly_at_the_limit_passes(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.torch.mean"\nmax_drop = 0.01')
    results, baseline = make_results(), make_results()
    results["parity"]["accuracy"]["by_framework"]["torch"]["mean"] = 0.85
    baseline["parity"]["accuracy"]["by_framework"]["torch"]["mean"] = 0.86
    assert evaluate(results, baseline, rules).exit_code == 0


def test_missing_metric_fails_closed(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.step0.no_such_metric"\nmax = 1')
    report = evaluate(make_results(), None, rules)
    assert report.exit_code == 1
    [check] = report.checks
    assert check.verdict is Verdict.FAIL
    assert "missing" in check.message and "no_such_metric" in check.message


def test_metric_missing_from_baseline_fails_closed(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.torch.mean"\nmax_drop = 0.01')
    baseline = make_results()
    del baseline["parity"]["accuracy"]["by_framework"]["torch"]
    [check] = evaluate(make_results(), baseline, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "baseline" in check.message


def test_optional_rule_with_missing_path_is_skipped(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "attribution.score"\nmin = 0\nrequired = false')
    report = evaluate(make_results(), None, rules)
    assert [check.verdict for check in report.checks] == [Verdict.SKIPPED]
    assert report.exit_code == 0


def test_results_of_another_schema_version_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(make_results() | {"schema_version": 2}), encoding="utf-8")
    with pytest.raises(GateInputError, match=r"results\.json.*schema_version is 2"):
        load_document(path)


def test_baseline_of_another_schema_version_is_an_input_error() -> None:
    baseline = make_results() | {"schema_version": 0}
    with pytest.raises(GateInputError, match="baseline"):
        evaluate(make_results(), baseline, load_rules())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rule]\nname = 'x'", "not valid TOML"),
        ('[[rule]]\nname = "x"\npath = "a.b"\nmaxx = 1', "'x'.*unknown key 'maxx'"),
        ('[[rule]]\nname = "x"\npath = "a.b"', "'x'.*no bound"),
        ('[[rule]]\nname = "x"\npath = "a..b"\nmax = 1', "'x'.*bad path"),
        ('[[rule]]\nname = "x"\npath = "a"\nmax = "high"', "'max' must be a finite number"),
        ('[[rule]]\nname = "x"\npath = "a"\nmin = 2\nmax = 1', "min .* is above max"),
        ('[[rule]]\nname = "x"\npath = "a"\nmax = 1\nseverity = "loud"', "severity"),
        ('[[rule]]\nname = "x"\npath = "data.a"\nmax = 1\n' * 2, "twice"),
        ('[[rule]]\nname = "x"\npath = "parit.step0"\nmax = 1', "unknown path 'parit.step0'"),
        ('[[rule]]\nname = "x"\npath = "r[*].v"\nmax_drop = 0.1', r"\[\*\] cannot be paired"),
        ('[[rule]]\nname = "x"\npath = "a"\nmax_ratio = 1.1\nmax = 2', "cannot be combined"),
        ('[[rules]]\nname = "x"', "unknown top-level key 'rules'"),
    ],
)
def test_malformed_rules_are_input_errors_naming_file_and_rule(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(GateInputError, match=expected) as raised:
        rules_from(text, tmp_path)
    message = str(raised.value)
    assert "rules.toml" in message
    assert "\n" not in message


def test_missing_rules_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(GateInputError, match="not found"):
        load_rules(tmp_path / "absent.toml")


def test_relative_rule_without_baseline_is_an_input_error() -> None:
    with pytest.raises(GateInputError, match="accuracy.no_drop.*no baseline"):
        evaluate(make_results(), None, load_rules())


# --- bounds -------------------------------------------------------------------------------


def test_absolute_bounds(tmp_path: Path) -> None:
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


def test_non_numeric_value_under_a_numeric_bound_fails(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "audit.name"\nmax = 1')
    [check] = evaluate(make_results(), None, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "finite number" in check.message


def test_nan_value_fails(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.step0.max_abs_logit_diff"\nmax = 1')
    results = make_results()
    results["parity"]["step0"]["max_abs_logit_diff"] = float("nan")
    assert evaluate(results, None, rules).exit_code == 1


def test_max_increase_ci_uses_the_sibling_half_width(tmp_path: Path) -> None:
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


def test_max_increase_ci_with_missing_interval_fails(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.difference"\nmax_increase_ci = "ci"')
    [check] = evaluate(make_results(), make_results(), rules).checks
    assert check.verdict is Verdict.FAIL
    assert "'ci'" in check.message


def test_magnitude_catches_a_signed_disparity_growing_more_negative(tmp_path: Path) -> None:
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


def test_warn_severity_reports_but_does_not_fail(tmp_path: Path) -> None:
    body = 'path = "parity.step0.max_abs_logit_diff"\nmax = 0\nseverity = "warn"'
    rules = one_rule(tmp_path, body)
    report = evaluate(make_results(), None, rules)
    assert [check.verdict for check in report.checks] == [Verdict.WARN]
    assert report.exit_code == 0


# --- wildcards and selectors --------------------------------------------------------------


def test_glob_expands_to_one_check_per_match(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "fairness.*.*.disparities.*_difference.value"\nmax = 0.25')
    report = evaluate(make_results(), None, rules)
    assert sorted(check.path for check in report.checks) == sorted(
        f"fairness.{framework}.sex.disparities.{name}.value"
        for framework in ("torch", "keras")
        for name in ("demographic_parity_difference", "statistical_parity_difference")
    )
    assert report.exit_code == 0


def test_glob_skips_branches_without_the_rest_of_the_path(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.*.mean"\nmin = 0.8')
    paths = [check.path for check in evaluate(make_results(), None, rules).checks]
    assert paths == ["parity.accuracy.by_framework.torch.mean", "parity.accuracy.by_framework.keras.mean"]


def test_glob_with_zero_matches_fails_closed(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.*.median"\nmin = 0.8')
    report = evaluate(make_results(), None, rules)
    assert report.exit_code == 1
    assert "missing" in report.checks[0].message


def test_glob_relative_rule_fails_when_a_baseline_match_vanishes(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.*.mean"\nmax_drop = 0.01')
    results = make_results()
    del results["parity"]["accuracy"]["by_framework"]["keras"]
    report = evaluate(results, make_results(), rules)
    verdicts = {check.path: check.verdict for check in report.checks}
    assert verdicts == {
        "parity.accuracy.by_framework.torch.mean": Verdict.PASS,
        "parity.accuracy.by_framework.keras.mean": Verdict.FAIL,
    }


def test_selector_picks_the_matching_list_item(tmp_path: Path) -> None:
    rules = rules_from(
        """
[[rule]]
name = "keras-ratio"
path = "benchmarks.rows[name=train_epoch,framework=keras].ratio"
max = 1.05
[[rule]]
name = "torch-ratio"
path = "benchmarks.rows[name=train_epoch, framework=torch].ratio"
max = 1.05
[[rule]]
name = "by-index"
path = "benchmarks.rows[-1].ratio"
equals = 1.10
""",
        tmp_path,
    )
    checks = {check.rule: check for check in evaluate(make_results(), None, rules).checks}
    assert checks["keras-ratio"].verdict is Verdict.FAIL
    assert checks["keras-ratio"].value == 1.10
    assert checks["torch-ratio"].verdict is Verdict.PASS
    assert checks["by-index"].verdict is Verdict.PASS


def test_selector_matching_several_items_fails_as_ambiguous(tmp_path: Path) -> None:
    body = 'path = "benchmarks.rows[name=train_epoch].ratio"\nmax = 2\nrequired = false'
    rules = one_rule(tmp_path, body)
    [check] = evaluate(make_results(), None, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "ambiguous" in check.message


def test_selector_relative_rule_pairs_items_by_identity_not_position(tmp_path: Path) -> None:
    body = 'path = "benchmarks.rows[framework=torch].ratio"\nmax_increase = 0.01'
    rules = one_rule(tmp_path, body)
    baseline = make_results()
    baseline["benchmarks"]["rows"].reverse()
    assert evaluate(make_results(), baseline, rules).exit_code == 0


def test_list_wildcard_expands_over_items(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "benchmarks.rows[*].ratio"\nmax = 1.05')
    checks = evaluate(make_results(), None, rules).checks
    assert [(check.path, check.verdict) for check in checks] == [
        ("benchmarks.rows[0].ratio", Verdict.PASS),
        ("benchmarks.rows[1].ratio", Verdict.FAIL),
    ]


# --- timing -------------------------------------------------------------------------------

TIMING_RULE = 'path = "benchmarks.rows[name=step].samples_s"\nmax_ratio = 1.05'


def with_timings(samples: list[float], reference: list[float] | None = None) -> dict[str, Any]:
    results = make_results()
    row: dict[str, Any] = {"name": "step", "samples_s": samples}
    if reference is not None:
        row["reference_samples_s"] = reference
    results["benchmarks"]["rows"].append(row)
    return results


def test_clearly_slower_timings_fail_against_the_baseline(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, TIMING_RULE)
    results = with_timings(timings(0.060, 20, seed=1))
    baseline = with_timings(timings(0.040, 20, seed=2))
    [check] = evaluate(results, baseline, rules).checks
    assert check.verdict is Verdict.FAIL
    assert check.value == pytest.approx(1.5, rel=0.05)


@pytest.mark.parametrize("seed", range(5))
def test_identical_distributions_never_fail(tmp_path: Path, seed: int) -> None:
    rules = one_rule(tmp_path, TIMING_RULE)
    results = with_timings(timings(0.040, 20, seed=seed))
    baseline = with_timings(timings(0.040, 20, seed=seed + 100))
    [check] = evaluate(results, baseline, rules).checks
    assert check.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)


def test_identical_samples_with_zero_tolerance_are_inconclusive_not_pass(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "benchmarks.rows[name=step].samples_s"\nmax_ratio = 1.0')
    samples = timings(0.040, 20, seed=3)
    [check] = evaluate(with_timings(samples), with_timings(list(samples)), rules).checks
    assert check.verdict is Verdict.INCONCLUSIVE
    assert "straddles" in check.message


def test_tiny_samples_are_inconclusive(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, TIMING_RULE)
    results = with_timings([0.9, 1.0, 1.1])
    baseline = with_timings([0.09, 0.10, 0.11])
    report = evaluate(results, baseline, rules)
    [check] = report.checks
    assert check.verdict is Verdict.INCONCLUSIVE
    assert "too few samples" in check.message
    assert report.exit_code == 0
    strict = evaluate(results, baseline, rules, inconclusive_fails=True)
    assert strict.exit_code == 1


def test_ratio_against_same_run_reference_needs_no_baseline(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, TIMING_RULE + '\nreference_sibling = "reference_samples_s"')
    slow = with_timings(timings(0.080, 15, seed=4), timings(0.040, 15, seed=5))
    fast = with_timings(timings(0.040, 15, seed=6), timings(0.040, 15, seed=7))
    assert evaluate(slow, None, rules).checks[0].verdict is Verdict.FAIL
    assert evaluate(fast, None, rules).checks[0].verdict is not Verdict.FAIL


def test_timing_samples_that_are_not_timings_fail(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, TIMING_RULE + '\nreference_sibling = "reference_samples_s"')
    results = with_timings([0.1] * 10, [0.1] * 9 + [-1.0])
    [check] = evaluate(results, None, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "reference samples" in check.message


def test_bootstrap_interval_brackets_the_ratio_and_is_deterministic() -> None:
    current, reference = timings(0.05, 30, seed=8), timings(0.04, 30, seed=9)
    first = bootstrap_ratio_of_medians(current, reference)
    estimate, low, high = first
    assert low <= estimate <= high
    assert estimate == pytest.approx(1.25, rel=0.05)
    assert bootstrap_ratio_of_medians(current, reference) == first


# --- outputs ------------------------------------------------------------------------------


def test_junit_xml_has_testsuite_testcase_and_failure_counts(tmp_path: Path) -> None:
    rules = rules_from(
        """
[[rule]]
name = "passes"
path = "parity.step0.max_abs_logit_diff"
max = 1e-5
[[rule]]
name = "fails"
path = "benchmarks.rows[*].ratio"
max = 1.05
[[rule]]
name = "skipped"
path = "attribution.absent"
max = 1
required = false
""",
        tmp_path,
    )
    report = evaluate(make_results(), None, rules)
    target = write_junit(report, tmp_path / "out" / "gate.xml")
    suite = ElementTree.parse(target).getroot()
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert len(cases) == 4 == int(suite.get("tests"))
    assert len(suite.findall("testcase/failure")) == 1 == int(suite.get("failures"))
    assert len(suite.findall("testcase/skipped")) == 1 == int(suite.get("skipped"))
    failed = [case for case in cases if case.find("failure") is not None]
    assert failed[0].get("classname") == "fails"
    assert failed[0].get("name") == "benchmarks.rows[1].ratio"
    assert not list(target.parent.glob(".gate.xml.*"))  # no temporary file left behind


def test_table_and_markdown_list_every_check(tmp_path: Path) -> None:
    report = evaluate(make_results(), make_results(), load_rules())
    table, markdown = render_table(report), render_markdown(report)
    for check in report.checks:
        assert check.path in table
        assert check.path in markdown
    assert "gate PASSED" in table
    assert markdown.count("\n|") == len(report.checks) + 2


def test_markdown_escapes_pipes_in_cells(tmp_path: Path) -> None:
    rules = one_rule(tmp_path, 'path = "audit.name"\nequals = "a|b"')
    markdown = render_markdown(evaluate(make_results(), None, rules))
    assert "a\\|b" in markdown


# --- documents and baselines --------------------------------------------------------------


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


def test_promote_baseline_copies_the_file_under_the_audit_name(tmp_path: Path) -> None:
    source = tmp_path / "run" / "results.json"
    source.parent.mkdir()
    source.write_text(json.dumps(make_results(), indent=1), encoding="utf-8")
    target = promote_baseline(source, tmp_path / "reports" / "baseline")
    assert target == tmp_path / "reports" / "baseline" / "adult.json"
    assert target.read_bytes() == source.read_bytes()
    assert evaluate(load_document(source), load_document(target), load_rules()).exit_code == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"schema_version": 9}, "schema_version"),
        ({"audit": {"name": "../escape"}}, "audit.name"),
        ({"audit": {}}, "audit.name"),
    ],
)
def test_promote_baseline_refuses_unusable_results(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    source = tmp_path / "results.json"
    source.write_text(json.dumps(make_results() | change), encoding="utf-8")
    with pytest.raises(GateInputError, match=expected):
        promote_baseline(source, tmp_path / "baseline")
    assert not (tmp_path / "baseline").exists()


def test_parse_rules_accepts_a_table_from_an_audit_file() -> None:
    rules = parse_rules(
        {"rule": [{"name": "gap", "path": "parity.accuracy.difference", "max": 0.01}]},
        source="audits/adult.toml",
    )
    assert evaluate(make_results(), None, rules).exit_code == 0
    with pytest.raises(GateInputError, match="audits/adult.toml"):
        parse_rules({"rule": [{"name": "gap", "path": "a"}]}, source="audits/adult.toml")


def test_a_value_undefined_in_both_runs_is_skipped_but_one_that_vanished_fails(tmp_path):
    rules = one_rule(tmp_path, 'path = "parity.accuracy.difference"\nmax_increase = 0.01')
    results, baseline = make_results(), make_results()
    results["parity"]["accuracy"]["difference"] = None
    baseline["parity"]["accuracy"]["difference"] = None
    (check,) = evaluate(results, baseline, rules).checks
    assert check.verdict is Verdict.SKIPPED and "not computable" in check.message
    baseline["parity"]["accuracy"]["difference"] = 0.001
    (check,) = evaluate(results, baseline, rules).checks
    assert check.verdict is Verdict.FAIL
