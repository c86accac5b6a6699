"""Each network kind's family: its network sized from the data, and what applies to it."""

from __future__ import annotations

import numpy as np
import pytest

from twinaudit.data.dataset import Dataset, Split
from twinaudit.families import FAMILIES, family_of
from twinaudit.nets import RECONSTRUCTION
from twinaudit.spec import NetworkSection


class _Tokenizer:
    size = 50


def dataset(X: np.ndarray, n_classes: int = 2, tokenizer=None) -> Dataset:
    split = Split(X=X, y=np.arange(len(X)) % n_classes, sensitive_features=None,
                  row_id=np.arange(len(X)))
    return Dataset(name="t", train=split, validation=split, test=split, feature_names=[],
                   label_name="y", positive_label="1", n_classes=n_classes,
                   tokenizer=tokenizer)


TABLE = dataset(np.zeros((4, 7), np.float32))
IMAGES = dataset(np.zeros((20, 8, 8, 1), np.float32), n_classes=10)
TOKENS = dataset(np.zeros((4, 12), np.int32), tokenizer=_Tokenizer())


def test_each_family_sizes_its_network_from_the_data():
    mlp = family_of("mlp").network(NetworkSection(hidden=[5]), TABLE)
    assert (mlp.input_shape, mlp.output_size, mlp.n_parameters) == ((7,), 2, 7 * 5 + 5 + 5 * 2 + 2)
    cnn = family_of("cnn").network(NetworkSection(kind="cnn", hidden=[32]), IMAGES)
    assert (cnn.input_shape, cnn.output_size) == ((8, 8, 1), 10)
    lstm = family_of("lstm").network(NetworkSection(kind="lstm"), TOKENS)
    assert (lstm.input_shape, lstm.vocabulary_size, lstm.input_dtype) == ((12,), 50, "int32")
    autoencoder = family_of("autoencoder").network(
        NetworkSection(kind="autoencoder", hidden=[4, 2, 4]), TABLE)
    assert autoencoder.output_size == 7 and autoencoder.task is RECONSTRUCTION


def test_the_family_passes_the_regularisation_and_dropout_it_owns():
    mlp = family_of("mlp").network(NetworkSection(hidden=[5], dropout=0.25, l2=0.01), TABLE)
    assert (mlp.dropout, mlp.l2, mlp.has_dropout) == (0.25, 0.01, True)
    # Networks without an L2 setting say 0, not nothing: no duck typing downstream.
    assert family_of("cnn").network(NetworkSection(kind="cnn"), IMAGES).l2 == 0.0


def test_scores_are_calibrated_probabilities_for_the_binary_classifiers_only():
    assert {kind for kind, family in FAMILIES.items() if family.calibrated_scores} == {
        "mlp", "lstm"}


@pytest.mark.parametrize("kind, data, driver", [
    ("mlp", TABLE, "tabular"), ("cnn", IMAGES, "image"), ("lstm", TOKENS, "text"),
    ("autoencoder", TABLE, None), ("lstm", dataset(np.zeros((6, 12), np.int32), 3), None),
])
def test_the_family_names_the_attribution_driver_or_says_why_not(kind, data, driver):
    chosen, reason = family_of(kind).attribution_driver(data)
    assert chosen == driver
    assert bool(reason) == (driver is None)
    if kind == "autoencoder":
        assert "reconstruction" in reason
    elif driver is None:
        assert "3 classes" in reason


def test_only_the_text_family_runs_the_counterfactual_test():
    assert [kind for kind, family in FAMILIES.items() if family.counterfactual] == ["lstm"]
