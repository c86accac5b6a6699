"""The typed check of results.json (twinaudit.results.validate) against jsonschema.

``jsonschema`` is the independent judge: the schema must be a valid Draft 2020-12 schema, the
documents twinaudit writes must pass both validators, and on random schemas built from the
schema's own helpers both validators must agree on every random value.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinaudit.errors import InputError
from twinaudit.results import read_results, validate_results
from twinaudit.results import schema as shapes
from twinaudit.results.schema import json_schema
from twinaudit.results.validate import KEYWORDS, MAX_DEPTH, child_path, first_error

from helpers import REPO
from report_helpers import base_results, full_results, poisoned_results

BASELINE = REPO / "reports" / "baseline" / "adult.json"


def keywords(schema: dict) -> set[str]:
    """Every keyword a schema uses, at any depth."""
    found = set(schema)
    for key, value in schema.items():
        if key == "properties":
            for child in value.values():
                found |= keywords(child)
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            found |= keywords(value)
    return found


def test_the_schema_is_draft_2020_12_and_uses_only_what_the_validator_implements():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert keywords(schema) <= KEYWORDS


def test_every_section_describes_its_inside():
    for name, section in json_schema()["properties"].items():
        assert "type" in section, name
        if section["type"] == "object":
            assert section["properties"], name


@pytest.mark.parametrize("document", [
    pytest.param(lambda: json.loads(BASELINE.read_text()), id="committed-baseline"),
    pytest.param(base_results, id="hand-built-base"),
    pytest.param(full_results, id="hand-built-full"),
    pytest.param(poisoned_results, id="hand-built-poisoned"),
])
def test_written_and_hand_built_documents_are_valid_under_both_validators(document):
    # Through JSON, as a reader sees them (tuples become lists, NaN would be refused).
    parsed = json.loads(json.dumps(document(), allow_nan=False))
    assert first_error(parsed, json_schema()) is None
    jsonschema.Draft202012Validator(json_schema()).validate(parsed)


# --- the reported line ----------------------------------------------------------------------


def baseline_with(change) -> dict:
    document = json.loads(BASELINE.read_text())
    change(document)
    return document


@pytest.mark.parametrize("change, message", [
    # The mutations that crashed the report renderer before results.json was checked.
    (lambda d: d.update(twins=7), "$.twins: expected an array, got an integer"),
    (lambda d: d["network"].update(kind=None), "$.network.kind: expected a string, got null"),
    (lambda d: d["attribution"]["methods"].update(integrated_gradients=None),
     "$.attribution.methods.integrated_gradients: expected an object, got null"),
    (lambda d: d["data"]["groups"]["sex"].update(train=None),
     "$.data.groups.sex.train: expected an object, got null"),
    (lambda d: d["twins"][3].update(seed="3"),
     "$.twins[3].seed: expected an integer, got a string"),
    (lambda d: d["fairness"]["twins"]["torch"]["0"]["group_sets"]["sex"]["groups"]["Male"]
     ["metrics"]["accuracy"].update(ci=[0.1]),
     "$.fairness.twins.torch.0.group_sets.sex.groups.Male.metrics.accuracy.ci: expected at "
     "least 2 items, got 1"),
    (lambda d: d["audit"].pop("name"), "$.audit.name: required, but missing"),
    (lambda d: d["attribution"].update(kind="audio"),
     '$.attribution.kind: expected one of "tabular", "image", "text", got "audio"'),
    (lambda d: d["data"]["rows"].update(test=-1), "$.data.rows.test: expected at least 0, got -1"),
    (lambda d: d.update(extra=1), "$.extra: unknown key"),
    (lambda d: d["environment"].update(cpu_count=True),
     "$.environment.cpu_count: expected an integer or null, got a boolean"),
    # The real-data fields of a fairness audit (issue 12) are typed too.
    (lambda d: d["fairness"]["twins"]["torch"]["0"].update(rate_interval="percentile"),
     '$.fairness.twins.torch.0.rate_interval: expected one of "wilson", "clopper_pearson", '
     'got "percentile"'),
    (lambda d: d["fairness"]["multiplicity"].update(comparisons=-3),
     "$.fairness.multiplicity.comparisons: expected at least 0, got -3"),
    (lambda d: d["fairness"]["settings"].update(threshold="0.5"),
     "$.fairness.settings.threshold: expected a number, got a string"),
    (lambda d: d["fairness"]["twins"]["torch"]["0"]["group_sets"]["sex"]["disparities"]
     ["demographic_parity_difference"].update(nonzero="yes"),
     "$.fairness.twins.torch.0.group_sets.sex.disparities.demographic_parity_difference."
     "nonzero: expected a boolean or null, got a string"),
    (lambda d: d["fairness"]["twins"]["torch"]["0"]["group_sets"]["sex"]["groups"]["Male"]
     ["model_quality"]["calibration_curve"].update(rows=[1.5]),
     "$.fairness.twins.torch.0.group_sets.sex.groups.Male.model_quality.calibration_curve."
     "rows[0]: expected an integer, got a number"),
    (lambda d: d["fairness"]["twins"]["torch"]["0"]["group_sets"]["sex"].update(
        excluded_groups=[{"group": 3}]),
     "$.fairness.twins.torch.0.group_sets.sex.excluded_groups[0].group: expected a string, "
     "got an integer"),
])
def test_the_first_error_is_one_line_naming_the_json_path(change, message):
    assert first_error(baseline_with(change), json_schema()) == message


def test_keys_that_are_not_plain_names_are_quoted_on_one_line():
    assert child_path("$.data.groups", "race") == "$.data.groups.race"
    assert child_path("$.a", "torch/0") == "$.a.torch/0"
    assert child_path("$.a", "sex×race") == "$.a.sex×race"
    assert child_path("$.a", 3) == "$.a[3]"
    assert child_path("$.a", "x.y") == '$.a["x.y"]'
    assert child_path("$.a", "two\nlines\u2028") == '$.a["two\\nlines\\u2028"]'
    assert child_path("$.a", "") == '$.a[""]'


def test_json_schema_semantics_the_validator_shares_with_jsonschema():
    assert first_error(2.0, {"type": "integer"}) is None  # a whole float is an integer
    assert first_error(True, {"type": "number"}) == "$: expected a number, got a boolean"
    assert first_error(1, {"enum": [True]}) is not None  # 1 is not true
    assert first_error(1.0, {"const": 1}) is None
    # properties, required and items apply only to a value of their own type
    assert first_error(None, {"type": ["object", "null"], "required": ["a"]}) is None
    assert first_error("x", {"items": {"type": "integer"}}) is None
    assert first_error({"a": 1}, {"additionalProperties": {"type": "string"}}) == \
        "$.a: expected a string, got an integer"
    with pytest.raises(ValueError, match="anyOf"):
        first_error(1, {"anyOf": []})


# --- random schemas from the schema's helpers, random values: both validators agree ---------

LEAVES = st.sampled_from([shapes.string(), shapes.number(), shapes.integer(), shapes.count(),
                          shapes.boolean(), shapes.anything(), shapes.scalar(), shapes.figure(),
                          shapes.interval(), shapes.one_of("a", "b")])
KEYS = st.sampled_from(["a", "b", "c"])


def _compound(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        children.map(shapes.nullable),
        children.map(shapes.array),
        children.map(shapes.mapping),
        st.builds(lambda required, optional, closed: shapes.obj(required, optional,
                                                                closed=closed),
                  st.dictionaries(KEYS, children, max_size=2),
                  st.dictionaries(KEYS, children, max_size=2), st.booleans()))


SCHEMAS = st.recursive(LEAVES, _compound, max_leaves=6)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([2.0, 0.5, -1.5]),
              st.sampled_from(["a", "b", "x", ""])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(KEYS, children, max_size=3)),
    max_leaves=8)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(SCHEMAS, VALUES)
def test_both_validators_agree_on_random_schemas_and_values(schema, value):
    jsonschema.Draft202012Validator.check_schema(schema)
    mine = first_error(value, schema)
    theirs = jsonschema.Draft202012Validator(schema).is_valid(value)
    assert (mine is None) == theirs, mine
    assert mine is None or "\n" not in mine


# --- the reader ---------------------------------------------------------------------------


def test_the_reader_names_the_file_and_the_path(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(baseline_with(lambda d: d["network"].update(kind=None))))
    with pytest.raises(InputError) as raised:
        read_results(path)
    assert str(raised.value) == f"{path}: $.network.kind: expected a string, got null"


def test_a_document_deeper_than_any_results_document_is_refused_before_it_is_walked():
    deep: list = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    document = baseline_with(lambda d: d["audit"].update(spec={"x": deep}))
    with pytest.raises(InputError, match=rf"^r\.json: \$\.audit\.spec\.x(\[0\])+: nested more "
                                         rf"than {MAX_DEPTH} levels deep"):
        validate_results(document, source="r.json")


def test_a_hand_written_document_with_only_a_version_is_read(tmp_path):
    # The gate's tests and users' partial documents: only schema_version is required.
    path = tmp_path / "minimal.json"
    path.write_text('{"schema_version": 2, "parity": {"step0": {}, "one_step": {}, '
                    '"accuracy": {}}}')
    assert read_results(path)["parity"]["step0"] == {}
