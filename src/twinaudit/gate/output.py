"""Gate outputs: a plain-text table, a Markdown summary and JUnit XML."""

from __future__ import annotations

import html
import os
from pathlib import Path
from xml.etree import ElementTree

from twinaudit.gate.checks import Check, GateReport
from twinaudit.gate.errors import Verdict
from twinaudit.gate.paths import _format_value
from twinaudit.results import write_atomic

_COLUMNS = ("verdict", "rule", "path", "value", "baseline", "expected", "message")


def _rows(report: GateReport) -> list[tuple[str, ...]]:
    return [
        (
            check.verdict.value.upper(),
            check.rule,
            check.path,
            _format_value(check.value),
            _format_value(check.baseline_value),
            check.expected,
            check.message,
        )
        for check in report.checks
    ]


def render_table(report: GateReport) -> str:
    """A plain-text table of every check, then the one-line summary."""
    rows = [tuple(column.upper() for column in _COLUMNS), *_rows(report)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines + ["", report.summary()]) + "\n"


def render_markdown(report: GateReport) -> str:
    """A Markdown summary (a heading, the counts, a table) for a CI job summary."""
    header = "| " + " | ".join(column.capitalize() for column in _COLUMNS) + " |"
    divider = "|" + "|".join("---" for _ in _COLUMNS) + "|"
    body = ["| " + " | ".join(_markdown_cell(cell) for cell in row) + " |" for row in _rows(report)]
    icon = "✅" if report.passed else "❌"
    return "\n".join([f"## {icon} twinaudit {report.summary()}", "", header, divider, *body]) + "\n"


def _markdown_cell(text: str) -> str:
    # Group names and paths come from users' data, and Markdown renders raw HTML (a GitHub
    # step summary would run an <img onerror=...>): escape it. A '|' would end the cell and a
    # newline the row.
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def write_junit(report: GateReport, path: str | os.PathLike[str]) -> Path:
    """Write the report as JUnit XML: one ``testcase`` per check, ``classname`` = rule name.

    ``fail`` (and, when ``inconclusive_fails``, ``inconclusive``) becomes ``<failure>``;
    ``inconclusive`` and ``skipped`` become ``<skipped>``; ``warn`` passes with its message in
    ``<system-out>``. The file is written atomically.
    """
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": "twinaudit.gate",
            "tests": str(len(report.checks)),
            "failures": str(len(report.failures)),
            "errors": "0",
            "skipped": str(sum(_junit_skipped(report, check) for check in report.checks)),
        },
    )
    for check in report.checks:
        _add_testcase(suite, report, check)
    ElementTree.indent(suite)
    payload = ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"
    target = Path(path)
    write_atomic(target, payload)
    return target


def _junit_skipped(report: GateReport, check: Check) -> bool:
    return check.verdict in (Verdict.SKIPPED, Verdict.INCONCLUSIVE) and not report.is_failure(check)


def _add_testcase(suite: ElementTree.Element, report: GateReport, check: Check) -> None:
    case = ElementTree.SubElement(suite, "testcase", {"classname": check.rule, "name": check.path})
    text = f"{check.verdict.value}: {check.message}".rstrip(": ")
    if report.is_failure(check):
        attributes = {"message": text, "type": check.verdict.value}
        failure = ElementTree.SubElement(case, "failure", attributes)
        failure.text = f"value {_format_value(check.value)}; expected {check.expected}"
    elif _junit_skipped(report, check):
        ElementTree.SubElement(case, "skipped", {"message": text})
    elif check.verdict is Verdict.WARN:
        ElementTree.SubElement(case, "system-out").text = text
