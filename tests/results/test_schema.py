"""The results schema in code (twinaudit.results.schema) against its documentation and runs."""

from __future__ import annotations

import json
import re

import pytest

from twinaudit.errors import InputError
from twinaudit.results import REQUIRED_SECTIONS, SECTIONS, json_schema, read_results

from helpers import REPO

SCHEMA_DOC = REPO / "docs" / "results-schema.md"


def documented_sections(text: str) -> list[str]:
    """The section names of the document's top-level table (before its first ``##``)."""
    top = text.split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", top, flags=re.MULTILINE)


def test_the_documentation_lists_exactly_the_sections_in_code_in_order():
    assert documented_sections(SCHEMA_DOC.read_text(encoding="utf-8")) == list(SECTIONS)


def test_the_documentation_check_notices_a_missing_section():
    text = SCHEMA_DOC.read_text(encoding="utf-8").replace("| `anomaly` |", "| anomaly |")
    assert "anomaly" not in documented_sections(text)


def test_the_documented_error_line_is_what_the_reader_says(tmp_path):
    [line] = re.findall(r"^twinaudit: results\.json: (\$\..*)$",
                        SCHEMA_DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert line == "$.network.kind: expected a string, got null"
    results = json.loads((REPO / "reports" / "baseline" / "adult.json").read_text())
    results["network"]["kind"] = None
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    with pytest.raises(InputError) as raised:
        read_results(path)
    assert str(raised.value) == f"{path}: {line}"


def test_the_schema_describes_every_section_in_order_and_requires_only_the_version():
    schema = json_schema()
    assert list(schema["properties"]) == list(SECTIONS)
    assert schema["required"] == ["schema_version"]
    assert schema["additionalProperties"] is False


def test_a_real_run_writes_only_known_sections_and_every_required_one():
    results = json.loads((REPO / "reports" / "baseline" / "adult.json").read_text())
    assert set(results) <= set(SECTIONS)
    assert set(REQUIRED_SECTIONS) <= set(results)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"kind": "other", "schema_version": 1}', "kind is 'other'"),
    ('{"kind": "twinaudit.results", "schema_version": 7}', "schema_version is 7"),
])
def test_the_one_reader_refuses_what_is_not_a_results_document(tmp_path, content, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_results(path)


def test_the_one_reader_names_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(InputError, match="baseline file not found"):
        read_results(tmp_path / "absent.json", role="baseline")
    with pytest.raises(InputError, match="is a directory"):
        read_results(tmp_path)


def test_the_one_reader_bounds_nesting(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(InputError, match="nested too deeply"):
        read_results(path)
