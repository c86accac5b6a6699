"""[network] kinds and their keys, validated as strictly as the rest of the spec."""

from pathlib import Path

import pytest

from twinaudit.spec import SpecError, load_spec

REPO = Path(__file__).resolve().parents[1]


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


def test_mitigation_needs_the_mlp(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('[audit]\nname = "x"\n[data]\ndataset = "digits"\n'
                    'sensitive_features = ["digit"]\n[network]\nkind = "cnn"\n')
    with pytest.raises(SpecError, match=r"\[audits\].mitigation: expected false for this kind"):
        load_spec(path)


def test_sentiment_tokenizer_settings_are_checked(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('[audit]\nname = "x"\n[data]\ndataset = "sentiment"\nvocabulary_size = 2\n'
                    'sensitive_features = ["domain"]\n[network]\nkind = "lstm"\n'
                    '[audits]\nmitigation = false\n')
    with pytest.raises(SpecError, match=r"\[data\].vocabulary_size: expected an integer >= 3"):
        load_spec(path)
