"""Audit definitions: the shipped ones load, and every mistake is a one-line error naming the
file, the key and what was expected — [network] kinds and their keys as strictly as the rest."""

from pathlib import Path

import pytest

from twinaudit.spec import SpecError, load_spec
from twinaudit.vocabulary import FRAMEWORKS

from helpers import REPO


def test_default_audit_loads_with_its_settings():
    spec = load_spec(REPO / "audits" / "adult.toml")
    assert spec.audit.name == "adult"
    assert spec.training.seeds == [0, 1, 2]
    assert spec.training.frameworks == list(FRAMEWORKS)
    assert spec.network.hidden == [64, 32]
    # Outputs are relative to the audit's workspace (the folder holding audits/), not to
    # wherever the command was started.
    assert spec.workspace == REPO
    assert (spec.output_dir, spec.models_dir) == (REPO / "reports" / "adult",
                                                  REPO / "models" / "adult")


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
    (VALID + '[training]\nframeworks = ["torch", "keras[mxnet]"]\n',
     "[training].frameworks: expected distinct names from ('torch', 'keras', "
     "'keras[tensorflow]', 'keras[jax]')"),
    (VALID + '[training]\nframeworks = ["keras[jax]", "keras[jax]"]\n',
     "[training].frameworks"),
    (VALID + '[training]\nframeworks = ["torch", "keras[torch]"]\n',
     "(not keras[torch]: Keras 3 on PyTorch computes float64 in float32"),
    (VALID + '[network]\nkind = "transformer"\n', "[network].kind: expected one of"),
    ('[audit]\nname = "x"\n[data]\ndataset = "mnist"\n', "[data].dataset: expected one of"),
    ('[audit]\nname = "x"\n', "missing section [data]"),
    ('[audit]\nname = "x"\n[data]\n', "[data] missing required key 'dataset'"),
    ('[audit]\nname = "x"\n[data]\ndataset = "csv"\n', "[data].path"),
    ("[audit\nname=", "not valid TOML"),
    (VALID + '[mitigation]\nmethods = ["reweighting"]\n',
     "[mitigation].methods: expected distinct names among reweighing, uniform_resampling"),
    (VALID + '[mitigation]\nmethods = ["reweighing", "reweighing"]\n', "[mitigation].methods"),
    (VALID + '[mitigation]\nmethods = []\nreweighing = true\n',
     "[mitigation].reweighing: expected no value beside methods"),
    (VALID + '[mitigation]\nreweighing = "yes"\n', "[mitigation].reweighing: expected bool"),
    (VALID + "[mitigation]\nreductions_eps = 0\n", "[mitigation].reductions_eps"),
    (VALID + "[mitigation]\ngrid_size = 1\n", "[mitigation].grid_size"),
    (VALID + "[mitigation]\nmax_accuracy_cost = -0.1\n", "[mitigation].max_accuracy_cost"),
])
def test_bad_specs_name_file_key_and_expectation(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize("switches, methods", [
    ("", ["reweighing", "threshold_optimizer"]),
    ("reweighing = false\n", ["threshold_optimizer"]),
    ("threshold_optimizer = false\n", ["reweighing"]),
    ("reweighing = false\nthreshold_optimizer = false\n", []),
    ("reweighing = true\nthreshold_optimizer = true\n", ["reweighing", "threshold_optimizer"]),
])
def test_the_older_mitigation_switches_read_as_the_methods_they_mean(tmp_path, switches,
                                                                      methods):
    spec = load_spec(write(tmp_path, VALID + f"[mitigation]\n{switches}"))
    assert spec.mitigation.methods == methods


def test_keras_on_a_named_backend_is_an_implementation(tmp_path):
    spec = load_spec(write(tmp_path, VALID + '[training]\nframeworks = ["torch", "keras", '
                                             '"keras[jax]"]\n'))
    assert spec.training.frameworks == [*FRAMEWORKS, "keras[jax]"]


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


# -- [network] kinds and their keys ----------------------------------------------------------

@pytest.mark.parametrize("name, kind", [("simplenet", "mlp"), ("digits", "cnn"),
                                        ("sentiment", "lstm"), ("autoencoder", "autoencoder")])
def test_shipped_audits_load(name, kind):
    spec = load_spec(REPO / "audits" / f"{name}.toml")
    assert spec.audit.name == name and spec.network.kind == kind


def audit(tmp_path: Path, dataset: str, network: str, extra: str = "") -> Path:
    path = tmp_path / "audit.toml"
    path.write_text(f'[audit]\nname = "x"\n[data]\ndataset = "{dataset}"\n'
                    f'sensitive_features = ["group"]\n[network]\n{network}\n'
                    f'[audits]\nmitigation = false\n{extra}')
    return path


@pytest.mark.parametrize("dataset, network, extra, expected", [
    ("digits", 'kind = "lstm"', "", "[data].dataset: expected one of ('sentiment',) for kind"),
    ("adult", 'kind = "cnn"', "", "[data].dataset: expected one of ('digits',)"),
    ("digits", 'kind = "cnn"\nunits = 8', "", "[network].units: expected no value (it applies "
                                             "to kind = 'lstm' only)"),
    ("sentiment", 'kind = "lstm"\nfilters = [4]', "", "[network].filters"),
    ("adult", 'kind = "autoencoder"\ndropout = 0.5', "", "[network].dropout"),
    ("sentiment", 'kind = "lstm"\nactivation = "tanh"', "", "[network].activation"),
    ("digits", 'kind = "cnn"\nkernel_size = 0', "", "[network].kernel_size: expected an integer"),
    ("adult", 'kind = "autoencoder"', "[fairness]\nflag_quantile = 1.0\n",
     "[fairness].flag_quantile: expected a number in (0, 1)"),
])
def test_bad_network_settings_are_one_line_errors(tmp_path, dataset, network, extra, expected):
    with pytest.raises(SpecError) as error:
        load_spec(audit(tmp_path, dataset, network, extra))
    assert expected in str(error.value)


def test_mitigation_is_refused_where_the_groups_are_the_classes(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('[audit]\nname = "x"\n[data]\ndataset = "digits"\n'
                    'sensitive_features = ["digit"]\n[network]\nkind = "cnn"\n')
    with pytest.raises(SpecError, match=r"\[audits\].mitigation: expected false for this kind"):
        load_spec(path)


def test_the_autoencoder_takes_only_the_label_free_mitigation(tmp_path):
    text = ('[audit]\nname = "x"\n[data]\ndataset = "adult"\nsensitive_features = ["sex"]\n'
            '[network]\nkind = "autoencoder"\n')
    path = write(tmp_path, text)  # the default methods include ThresholdOptimizer
    with pytest.raises(SpecError, match=r"\[mitigation\].methods: expected only reweighing "
                                        r"for the autoencoder"):
        load_spec(path)
    path.write_text(text + '[mitigation]\nmethods = ["reweighing"]\n')
    assert load_spec(path).mitigation.methods == ["reweighing"]


def test_the_lstm_twins_can_be_mitigated(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('[audit]\nname = "x"\n[data]\ndataset = "sentiment"\n'
                    'sensitive_features = ["domain"]\n[network]\nkind = "lstm"\n'
                    '[mitigation]\nmethods = ["reweighing"]\nreweigh_on = ["domain"]\n')
    assert load_spec(path).mitigation.methods == ["reweighing"]


def test_sentiment_tokenizer_settings_are_checked(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('[audit]\nname = "x"\n[data]\ndataset = "sentiment"\nvocabulary_size = 2\n'
                    'sensitive_features = ["domain"]\n[network]\nkind = "lstm"\n'
                    '[audits]\nmitigation = false\n')
    with pytest.raises(SpecError, match=r"\[data\].vocabulary_size: expected an integer >= 3"):
        load_spec(path)


MINIMAL = '[audit]\nname = "x"\n[data]\ndataset = "adult"\n'


@pytest.mark.parametrize("extra, expected", [
    ("[training]\nlearning_rate = inf\n", r"\[training\]\.learning_rate: expected a finite number"),
    ("[training]\nepsilon = nan\n", r"\[training\]\.epsilon: expected a finite number"),
    ("[network]\nl2 = -inf\n", r"\[network\]\.l2: expected a finite number"),
    ("[network]\nhidden = [1099511627776]\n", r"\[network\]\.hidden: expected at most 65,536"),
    ("[fairness]\nn_resamples = 1000000000000\n", r"\[fairness\]\.n_resamples: expected at most"),
    ("[training]\nepochs = 10000000\n", r"\[training\]\.epochs: expected at most 100,000"),
    ("[training]\nseeds = [" + ", ".join(str(seed) for seed in range(101)) + "]\n",
     r"\[training\]\.seeds: expected at most 100 seeds"),
])
def test_settings_are_finite_and_bounded_at_load(tmp_path, extra, expected):
    with pytest.raises(SpecError, match=expected):
        load_spec(write(tmp_path, MINIMAL + extra))


def test_a_byte_order_mark_is_tolerated_and_a_folder_is_named(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_spec(path).audit.name == "x"
    with pytest.raises(SpecError, match="is a directory"):
        load_spec(tmp_path)


def test_text_that_is_not_utf8_is_named_with_its_byte(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace('"x"', '"caf\xe9"').encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8 text"):
        load_spec(path)


@pytest.mark.parametrize("audit, expected", [
    ('name = "../../../x"', r"\[audit\]\.name: expected a plain folder and file name"),
    ('name = ".hidden"', r"\[audit\]\.name: expected a plain folder and file name"),
    ('name = "x"\noutput_dir = "../../../../x"',
     r"\[audit\]\.output_dir: expected a folder inside"),
    ('name = "x"\nmodels_dir = "/etc/x"', r"\[audit\]\.models_dir: expected a folder inside"),
])
def test_a_toml_cannot_send_outputs_outside_its_workspace(tmp_path, audit, expected):
    with pytest.raises(SpecError, match=expected):
        load_spec(write(tmp_path, f'[audit]\n{audit}\n[data]\ndataset = "adult"\n'))


def test_outputs_inside_the_workspace_are_fine_and_relative_to_it(tmp_path):
    folder = tmp_path / "project" / "audits"
    folder.mkdir(parents=True)
    path = folder / "a.toml"
    path.write_text('[audit]\nname = "a"\noutput_dir = "out/a"\n[data]\ndataset = "adult"\n')
    spec = load_spec(path)
    assert spec.workspace == tmp_path / "project"
    assert spec.output_dir == tmp_path / "project" / "out" / "a"
    assert spec.models_dir == tmp_path / "project" / "models" / "a"


# -- [privacy] ---------------------------------------------------------------------------------

@pytest.mark.parametrize("privacy, network, expected", [
    ('attacks = ["lira", "shadow_boxing"]', "", "[privacy].attacks: expected distinct names"),
    ("shadows = 3", "", "[privacy].shadows: expected an even number >= 2"),
    ("epsilons = [0]", "", "[privacy].epsilons: expected distinct budgets in (0, 100]"),
    ("epsilons = [1, 1]", "", "[privacy].epsilons: expected distinct budgets"),
    ("delta = 1.5", "", "[privacy].delta: expected a number in (0, 1)"),
    ("clipping_norm = 0", "", "[privacy].clipping_norm: expected a number > 0"),
    ("epsilons = [8]", "dropout = 0.2", "[network].dropout: expected 0 and network.l2 = 0"),
    ("epsilons = [8]", "l2 = 0.01", "[network].dropout: expected 0 and network.l2 = 0"),
    ("shadows = 1000", "", "[privacy].shadows: expected at most 256"),
])
def test_bad_privacy_settings_are_one_line_errors(tmp_path, privacy, network, expected):
    path = write(tmp_path, f'{MINIMAL}[network]\n{network}\n[audits]\nprivacy = true\n'
                           f'[privacy]\n{privacy}\n')
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_dp_sgd_budgets_are_refused_for_the_networks_it_does_not_train(tmp_path):
    path = write(tmp_path, '[audit]\nname = "x"\n[data]\ndataset = "digits"\n'
                           'sensitive_features = ["digit"]\n[network]\nkind = "cnn"\n'
                           '[audits]\nmitigation = false\nprivacy = true\n'
                           '[privacy]\nepsilons = [3]\n')
    with pytest.raises(SpecError, match=r"\[privacy\].epsilons: expected no budgets for kind "
                                        r"= 'cnn'"):
        load_spec(path)
    # The attacks need no DP-SGD: they run on any network.
    path.write_text(path.read_text().replace("epsilons = [3]", 'attacks = ["loss_threshold"]'))
    assert load_spec(path).privacy.attacks == ["loss_threshold"]


def test_privacy_is_off_by_default_and_its_section_has_defaults(tmp_path):
    spec = load_spec(write(tmp_path, MINIMAL))
    assert spec.audits.privacy is False
    assert spec.privacy.attacks == ["loss_threshold", "lira"] and spec.privacy.shadows == 4
    assert spec.privacy.epsilons == [] and spec.privacy.delta == 1e-5
