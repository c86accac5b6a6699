from pathlib import Path

import pytest

from twinaudit.spec import SpecError, load_spec

REPO = Path(__file__).resolve().parents[1]


def test_default_audit_loads_with_its_settings():
    spec = load_spec(REPO / "audits" / "adult.toml")
    assert spec.audit.name == "adult"
    assert spec.training.seeds == [0, 1, 2]
    assert spec.training.frameworks == ["torch", "keras"]
    assert spec.network.hidden == [64, 32]
    assert spec.output_dir == Path("reports/adult")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "audit.toml"
    path.write_text(text)
    return path


VALID = '[audit]\nname = "x"\n[data]\ndataset = "adult"\n'


@pytest.mark.parametrize("text, expected", [
    (VALID + "[training]\nepoch = 3\n", "[training] unknown key 'epoch'"),
    (VALID + "[trainin]\n", "unknown section [trainin]"),
    (VALID + '[training]\nepochs = "ten"\n', "[training].epochs: expected int, got 'ten'"),
    (VALID + "[training]\nepochs = 0\n", "[training].epochs: expected an integer >= 1"),
    (VALID + '[training]\nframeworks = ["torch", "jax"]\n', "[training].frameworks"),
    (VALID + '[network]\nkind = "transformer"\n', "[network].kind: expected one of"),
    ('[audit]\nname = "x"\n[data]\ndataset = "mnist"\n', "[data].dataset: expected one of"),
    ('[audit]\nname = "x"\n', "missing section [data]"),
    ('[audit]\nname = "x"\n[data]\n', "[data] missing required key 'dataset'"),
    ('[audit]\nname = "x"\n[data]\ndataset = "csv"\n', "[data].path"),
    ("[audit\nname=", "not valid TOML"),
])
def test_bad_specs_name_file_key_and_expectation(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")


def test_integers_are_accepted_as_floats(tmp_path):
    spec = load_spec(write(tmp_path, VALID + "[training]\nlearning_rate = 1\n"))
    assert spec.training.learning_rate == 1.0 and isinstance(spec.training.learning_rate, float)


def test_an_audit_can_carry_its_own_gate_rules(tmp_path):
    from twinaudit.gate import load_rules

    rules = '[[gate.rule]]\nname = "tight"\npath = "parity.step0.max_abs_logit_diff"\nmax = 1e-6\n'
    path = write(tmp_path, VALID + rules)
    load_spec(path)  # the rules are valid, so the spec is
    (rule,) = load_rules(path)
    assert rule.name == "tight" and rule.maximum == 1e-6
    bad = write(tmp_path, VALID + rules.replace("max = 1e-6", "maxx = 1"))
    with pytest.raises(SpecError, match=r"\[gate\].*unknown key 'maxx'"):
        load_spec(bad)
