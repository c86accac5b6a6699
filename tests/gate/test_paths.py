"""Tests of twinaudit.gate.paths: path syntax, and how globs, [*] and selectors resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinaudit.gate.errors import Verdict
from twinaudit.gate.evaluation import evaluate
from twinaudit.gate.paths import AnyItem, Index, Key, Select, format_path, parse_path
from twinaudit.vocabulary import FRAMEWORKS


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


# --- wildcards and selectors ---------------------------------------------------------------


def test_glob_expands_to_one_check_per_match(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "fairness.*.*.disparities.*_difference.value"\nmax = 0.25')
    report = evaluate(make_results(), None, rules)
    assert sorted(check.path for check in report.checks) == sorted(
        f"fairness.{framework}.sex.disparities.{name}.value"
        for framework in FRAMEWORKS
        for name in ("demographic_parity_difference", "statistical_parity_difference")
    )
    assert report.exit_code == 0


def test_glob_skips_branches_without_the_rest_of_the_path(
    tmp_path: Path, make_results, one_rule
) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.*.mean"\nmin = 0.8')
    paths = [check.path for check in evaluate(make_results(), None, rules).checks]
    assert paths == ["parity.accuracy.by_framework.torch.mean",
                     "parity.accuracy.by_framework.keras.mean"]


def test_glob_with_zero_matches_fails_closed(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "parity.accuracy.by_framework.*.median"\nmin = 0.8')
    report = evaluate(make_results(), None, rules)
    assert report.exit_code == 1
    assert "missing" in report.checks[0].message


def test_selector_picks_the_matching_list_item(tmp_path: Path, make_results, rules_from) -> None:
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


def test_selector_matching_several_items_fails_as_ambiguous(
    tmp_path: Path, make_results, one_rule
) -> None:
    body = 'path = "benchmarks.rows[name=train_epoch].ratio"\nmax = 2\nrequired = false'
    rules = one_rule(tmp_path, body)
    [check] = evaluate(make_results(), None, rules).checks
    assert check.verdict is Verdict.FAIL
    assert "ambiguous" in check.message


def test_list_wildcard_expands_over_items(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "benchmarks.rows[*].ratio"\nmax = 1.05')
    checks = evaluate(make_results(), None, rules).checks
    assert [(check.path, check.verdict) for check in checks] == [
        ("benchmarks.rows[0].ratio", Verdict.PASS),
        ("benchmarks.rows[1].ratio", Verdict.FAIL),
    ]
