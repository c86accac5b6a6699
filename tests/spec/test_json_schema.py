"""The JSON Schemas of audit definitions and results, checked with a real validator."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import pytest

from twinaudit.results.schema import SCHEMA_VERSION, SECTIONS, json_schema
from twinaudit.spec import SECTIONS as SPEC_SECTIONS
from twinaudit.spec.json_schema import audit_schema

from helpers import REPO

AUDITS = sorted((REPO / "audits").glob("*.toml"))


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", AUDITS, ids=[path.stem for path in AUDITS])
def test_every_shipped_audit_is_valid_under_the_schema(path):
    validator(audit_schema()).validate(tomllib.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("document, where", [
    ({"audit": {"name": "x"}, "data": {"dataset": "adult", "sensitive_featurs": ["sex"]}},
     "sensitive_featurs"),
    ({"audit": {"name": "x"}, "data": {"dataset": "imagenet"}}, "imagenet"),
    ({"audit": {"name": "x"}, "data": {"dataset": "adult"},
      "training": {"frameworks": ["torch", "mxnet"]}}, "mxnet"),
    ({"audit": {"name": "x"}, "data": {"dataset": "adult"}, "training": {"epochs": "ten"}},
     "ten"),
    ({"data": {"dataset": "adult"}}, "audit"),
    ({"audit": {"name": "x"}, "data": {"dataset": "adult"}, "trainng": {}}, "trainng"),
])
def test_the_schema_refuses_what_the_loader_refuses(document, where):
    errors = list(validator(audit_schema()).iter_errors(document))
    assert errors and any(where in error.message for error in errors)


def test_the_schema_has_every_key_with_its_default_and_comment():
    schema = audit_schema()["properties"]
    assert set(schema) == set(SPEC_SECTIONS) | {"gate"}
    training = schema["training"]["properties"]
    assert training["epochs"]["default"] == 10
    assert "torch's intra-op threads" in training["threads"]["description"]
    assert schema["audit"]["required"] == ["name"]


def test_a_real_results_file_is_valid_and_a_foreign_section_is_not():
    results = json.loads((REPO / "reports" / "baseline" / "adult.json").read_text())
    check = validator(json_schema())
    check.validate(results)
    assert set(json_schema()["properties"]) == set(SECTIONS)
    with pytest.raises(jsonschema.ValidationError):
        check.validate({**results, "extra": 1})
    with pytest.raises(jsonschema.ValidationError):
        check.validate({**results, "schema_version": SCHEMA_VERSION + 1})


@pytest.mark.parametrize("document, title", [
    ("audit", "twinaudit audit definition"),
    ("results", f"twinaudit results (schema {SCHEMA_VERSION})")])
def test_the_schema_command_prints_each_schema(document, title):
    from typer.testing import CliRunner

    from twinaudit.cli import app

    result = CliRunner().invoke(app, ["schema", document])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == title


def test_the_schema_command_refuses_another_document():
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "twinaudit.cli", "schema", "report"],
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2
    assert completed.stderr.strip() == ("twinaudit: schema 'report': expected 'audit' or "
                                        "'results'")
