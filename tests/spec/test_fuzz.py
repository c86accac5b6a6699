"""Fuzzing the audit definition and gate rule parsers: any document is a one-line error or a
valid result, never another exception (hypothesis generates the documents)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinaudit.errors import InputError
from twinaudit.gate import parse_rules
from twinaudit.spec import SECTIONS, spec_from_dict
from twinaudit.spec.sections import AuditSection
from twinaudit.vocabulary import FRAMEWORKS

# Every value TOML can hold: scalars (with inf, nan, huge integers, dates), lists, tables.
SCALARS = st.one_of(
    st.none().map(lambda _: ""), st.booleans(), st.integers(min_value=-2**64, max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.dates(), st.datetimes(), st.times(),
    st.sampled_from(["adult", "csv", "mlp", "lstm", *FRAMEWORKS, "relu", "sex", "race",
                     "../x", "integrated_gradients", "zeros", "demographic_parity"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=8)


def section_keys(name: str) -> list[str]:
    import dataclasses

    return [field.name for field in dataclasses.fields(SECTIONS[name])]


@st.composite
def audit_documents(draw):
    """Mostly well-formed skeletons with random values, sometimes random keys and sections."""
    document = {}
    for name in draw(st.lists(st.sampled_from([*SECTIONS, "gate", "extra"]), unique=True,
                              max_size=6)) + ["audit", "data"]:
        keys = section_keys(name) if name in SECTIONS else ["rule", "x"]
        table = draw(st.dictionaries(st.sampled_from([*keys, "unknown"]), VALUES, max_size=4))
        document[name] = draw(st.one_of(st.just(table), VALUES)) if draw(st.booleans()) \
            else table
    if isinstance(document.get("audit"), dict) and draw(st.booleans()):
        document["audit"]["name"] = "fuzz"
    if isinstance(document.get("data"), dict) and draw(st.booleans()):
        document["data"]["dataset"] = "adult"
    return document


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(audit_documents())
def test_any_audit_definition_is_valid_or_one_line_naming_the_file(tmp_path_factory, document):
    source = tmp_path_factory.mktemp("fuzz") / "audits" / "fuzz.toml"
    try:
        spec = spec_from_dict(document, source=source)
    except InputError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(str(source))
    else:
        assert spec.audit.name and isinstance(spec.audit, AuditSection)


RULE_KEYS = ["name", "path", "min", "max", "equals", "max_drop", "max_increase",
             "max_increase_ci", "max_ratio", "reference", "severity", "required", "magnitude",
             "confidence", "min_samples", "n_resamples", "description", "unknown"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(RULE_KEYS), st.one_of(
    VALUES, st.sampled_from(["accuracy.x", "parity.step0.max_abs_logit_diff",
                             "fairness.twins.*.group_sets[name=\"sex\"]", "benchmarks.rows[",
                             "a..b", "counterfactual.twins"]))), max_size=4))
def test_any_rule_table_is_valid_or_one_line(rules):
    try:
        parsed = parse_rules({"rule": rules}, source="fuzz.toml")
    except InputError as error:
        assert "\n" not in str(error) and str(error).startswith("fuzz.toml")
    else:
        assert len(parsed) == len(rules)


def test_the_fuzzer_reaches_both_outcomes():
    # Teeth: the generated documents include valid definitions, not only errors (a fuzzer
    # that only ever produced errors would prove nothing about the valid path).
    outcomes = set()
    for seed in range(300):
        document = _sample(seed)
        try:
            spec_from_dict(document, source=Path("audits/fuzz.toml"))
            outcomes.add("valid")
        except InputError:
            outcomes.add("error")
    assert outcomes == {"valid", "error"}


def _sample(seed: int) -> dict:
    """A skeleton with one random key changed: valid often, invalid often."""
    import random

    rng = random.Random(seed)
    document: dict = {"audit": {"name": "fuzz"}, "data": {"dataset": "adult"}}
    name = rng.choice(list(SECTIONS))
    key = rng.choice(section_keys(name))
    value = rng.choice([1, 0, -1, 0.5, 2.0, float("inf"), "relu", "adult", True, [], [8],
                        {}, dt.date(2026, 1, 1)])
    document.setdefault(name, {})[key] = value
    return document
