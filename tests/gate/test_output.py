"""Tests of twinaudit.gate.output: the table, the Markdown summary and JUnit XML."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from twinaudit.gate.evaluation import evaluate
from twinaudit.gate.output import render_markdown, render_table, write_junit
from twinaudit.gate.rules import load_rules


def test_junit_xml_has_testsuite_testcase_and_failure_counts(
    tmp_path: Path, make_results, rules_from
) -> None:
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


def test_table_and_markdown_list_every_check(tmp_path: Path, make_results) -> None:
    report = evaluate(make_results(), make_results(), load_rules())
    table, markdown = render_table(report), render_markdown(report)
    for check in report.checks:
        assert check.path in table
        assert check.path in markdown
    assert "gate PASSED" in table
    assert markdown.count("\n|") == len(report.checks) + 2


def test_markdown_escapes_pipes_in_cells(tmp_path: Path, make_results, one_rule) -> None:
    rules = one_rule(tmp_path, 'path = "audit.name"\nequals = "a|b"')
    markdown = render_markdown(evaluate(make_results(), None, rules))
    assert "a\\|b" in markdown


def test_markdown_escapes_html_from_users_data(tmp_path: Path, make_results, one_rule) -> None:
    payload = "<img src=x onerror=alert(1)>"
    rules = one_rule(tmp_path, f'path = "audit.name"\nequals = "{payload}"')
    markdown = render_markdown(evaluate(make_results(), None, rules))
    assert payload not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
