"""Integrated Gradients of the image (CNN) and text (Embedding + LSTM) twins.

The one quadrature of ``integrated_gradients`` is reused: images are flattened, text is
attributed in embedding space. Checked against captum on the torch twin (1e-5), and the Keras
twin against the torch twin with identical weights. Twins are initialised, not trained (the
attributions of any fixed weights must agree), on small real subsets of digits and sentiment.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from twinaudit.attribution.gradients import (
    class_gradient_functions,
    differentiated_row_shape,
    gradient_function,
)
from twinaudit.attribution.image import (
    class_heat_maps,
    heat_map_agreement,
    image_attribution_audit,
    image_attributions,
)
from twinaudit.attribution.integrated_gradients import integrated_gradients, merge_results
from twinaudit.attribution.text import (
    embedding_table,
    example_rows,
    sentence_agreement,
    text_attribution_audit,
    token_attributions,
    top_tokens,
)
from twinaudit.data import load_dataset
from twinaudit.nets import initial_weights
from twinaudit.pipeline import network_for, run_attribution
from twinaudit.spec import load_spec
from twinaudit.twins import twin_class

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5


def small(name: str, *, train_rows: int = 300, test_rows: int = 60):
    spec = load_spec(REPO / "audits" / f"{name}.toml")
    spec = dataclasses.replace(spec, data=dataclasses.replace(
        spec.data, max_train_rows=train_rows, max_test_rows=test_rows))
    dataset = load_dataset(spec)
    return spec, dataset, network_for(spec, dataset)


def twins_of(network, seeds=(0,), *, scale: dict[str, float] | None = None) -> dict:
    """Initialised twins; ``scale`` multiplies named parameters (untrained weights are tiny,
    so larger ones make the comparison mean something)."""
    twins = {}
    for seed in seeds:
        weights = initial_weights(network, seed)
        for name, factor in (scale or {}).items():
            weights[name] = weights[name] * np.float32(factor)
        for framework in ("torch", "keras"):
            twin = twin_class(framework)(network, random_state=seed).initialize()
            twin.set_weights(weights)
            twins[framework, seed] = twin
    return twins


@pytest.fixture(scope="module")
def digits():
    spec, dataset, network = small("digits")
    return spec, dataset, network, twins_of(network, seeds=(0, 1))


@pytest.fixture(scope="module")
def sentiment():
    spec, dataset, network = small("sentiment")
    return spec, dataset, network, twins_of(network, seeds=(0, 1),
                                            scale={"embedding_0.embeddings": 20.0})


# -- images -----------------------------------------------------------------------------------

def test_class_target_is_the_log_softmax_of_the_class(digits):
    _, dataset, _, twins = digits
    images = dataset.test.X[:8]
    for framework in ("torch", "keras"):
        twin = twins[framework, 0]
        logits = twin.forward(images).astype(np.float64)
        log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        outputs, gradients = gradient_function(twin, target=3)(images.reshape(8, -1))
        np.testing.assert_allclose(outputs, log_softmax[:, 3], atol=1e-5)
        assert gradients.shape == (8, 64)
        # The traced-once variant gives the same numbers for every class.
        per_class = class_gradient_functions(twin)
        for target in (0, 3, 9):
            np.testing.assert_allclose(per_class(target)(images.reshape(8, -1))[1],
                                       gradient_function(twin, target=target)(
                                           images.reshape(8, -1))[1], atol=1e-7)


def test_image_ig_equals_captum_with_a_target_per_row(digits):
    import torch
    from captum.attr import IntegratedGradients
    from torch import nn

    _, dataset, _, twins = digits
    twin = twins["torch", 0]
    images, labels = dataset.test.X[:40], dataset.test.y[:40]
    ours = image_attributions(twin, images, labels).attributions
    module = nn.Sequential(twin.model_, nn.LogSoftmax(dim=1)).eval()
    captum = IntegratedGradients(module).attribute(
        torch.from_numpy(images), baselines=torch.zeros(1, 8, 8, 1),
        target=torch.from_numpy(labels), n_steps=50).detach().numpy().reshape(40, -1)
    assert np.abs(captum).max() > 1e-3  # a comparison of something, not of zeros
    assert np.abs(ours - captum).max() <= TOLERANCE


def test_keras_image_ig_matches_torch_for_identical_weights(digits):
    _, dataset, _, twins = digits
    images, labels = dataset.test.X[:40], dataset.test.y[:40]
    torch_result = image_attributions(twins["torch", 0], images, labels)
    keras_result = image_attributions(twins["keras", 0], images, labels)
    assert np.abs(torch_result.attributions - keras_result.attributions).max() <= TOLERANCE
    np.testing.assert_allclose(torch_result.outputs, keras_result.outputs, atol=1e-5)
    assert torch_result.relative_delta < 0.05  # completeness holds


def test_rows_come_back_in_their_order_after_the_per_class_grouping(digits):
    _, dataset, _, twins = digits
    twin = twins["torch", 0]
    images, labels = dataset.test.X[:12], dataset.test.y[:12]
    merged = image_attributions(twin, images, labels)
    for row in (0, 5, 11):
        alone = integrated_gradients(gradient_function(twin, target=int(labels[row])),
                                     images[row:row + 1].reshape(1, -1))
        np.testing.assert_allclose(merged.attributions[row], alone.attributions[0], atol=1e-7)
        assert merged.outputs[row] == pytest.approx(alone.outputs[0], abs=1e-7)
    with pytest.raises(ValueError, match="cover"):
        merge_results([(np.array([0, 2]), alone)])


def test_heat_maps_and_their_agreement_on_hand_built_numbers():
    attributions = np.zeros((4, 4))          # 2×2 images, one channel
    attributions[0] = [1, 0, 0, 0]
    attributions[1] = [3, 0, 0, 2]
    attributions[2] = [0, 1, 1, 0]
    labels = np.array([0, 0, 1, 1])
    maps = class_heat_maps(attributions, labels, 3, (2, 2, 1))
    np.testing.assert_allclose(maps[0], [[2, 0], [0, 1]])
    np.testing.assert_allclose(maps[1], [[0, 0.5], [0.5, 0]])
    assert np.isnan(maps[2]).all()           # a class without rows
    same = heat_map_agreement(maps, maps)
    assert same["heat_map_pearson"][:2] == pytest.approx([1, 1]) and \
        same["heat_map_pearson"][2] is None
    assert heat_map_agreement(maps, -maps)["heat_map_pearson_mean"] == pytest.approx(-1)


def test_image_audit_results_are_small_and_the_twins_agree(digits):
    _, dataset, _, twins = digits
    result = image_attribution_audit(twins, dataset, n_rows=50)
    assert result["kind"] == "image" and "log-softmax" in result["target"]
    ig = result["methods"]["integrated_gradients"]
    assert set(ig["twins"]) == {"torch/0", "keras/0", "torch/1", "keras/1"}
    heat_maps = ig["twins"]["keras/1"]["heat_maps"]
    assert len(heat_maps) == 10
    present = [m for m in heat_maps if m is not None]
    assert present and all(np.shape(m) == (8, 8) for m in present)
    assert ig["captum_check"]["max_abs_difference"] <= TOLERANCE
    frameworks = ig["agreement"]["summary"]["frameworks"]
    assert frameworks["heat_map_pearson_min"] > 0.999 and frameworks["row_cosine_p5"] > 0.999
    assert set(ig["agreement"]["seeds"]) == {"torch", "keras"}
    assert sum(result["rows_per_class"]) == result["settings"]["n_rows"] == 50


# -- text -------------------------------------------------------------------------------------

def test_token_ig_equals_captum_layer_ig_on_the_embedding(sentiment):
    import torch
    from captum.attr import LayerIntegratedGradients

    from twinaudit.attribution.methods import log_odds_module

    _, dataset, _, twins = sentiment
    twin, ids = twins["torch", 0], dataset.test.X[:30]
    tokens, result = token_attributions(twin, ids)
    layer = next(m for m in twin.model_ if isinstance(m, torch.nn.Embedding))
    captum = LayerIntegratedGradients(log_odds_module(twin), layer).attribute(
        torch.from_numpy(ids), baselines=torch.zeros_like(torch.from_numpy(ids)),
        n_steps=50).detach().numpy()
    assert np.abs(captum).max() > 1e-3
    assert np.abs(result.attributions - captum.reshape(30, -1)).max() <= TOLERANCE
    np.testing.assert_allclose(tokens, captum.sum(axis=2), atol=TOLERANCE)


def test_zero_baseline_equals_captum_on_the_layers_after_the_embedding(sentiment):
    import torch
    from captum.attr import IntegratedGradients

    from twinaudit.attribution.methods import log_odds_module

    _, dataset, _, twins = sentiment
    twin, ids = twins["torch", 0], dataset.test.X[:20]
    _, result = token_attributions(twin, ids, baselines="zeros")
    after = torch.nn.Sequential(twin.model_[1:], *list(log_odds_module(twin))[1:]).eval()
    embedded = torch.from_numpy(embedding_table(twin)[ids])
    captum = IntegratedGradients(after).attribute(embedded, baselines=embedded * 0,
                                                  n_steps=50).detach().numpy()
    assert np.abs(result.attributions - captum.reshape(20, -1)).max() <= TOLERANCE


def test_keras_token_ig_matches_torch_and_padding_gets_nothing(sentiment):
    _, dataset, _, twins = sentiment
    ids = dataset.test.X[:30]
    torch_tokens, torch_result = token_attributions(twins["torch", 0], ids)
    keras_tokens, keras_result = token_attributions(twins["keras", 0], ids)
    assert np.abs(torch_tokens).max() > 1e-3
    assert np.abs(torch_result.attributions - keras_result.attributions).max() <= TOLERANCE
    # The padding baseline: a padded position equals the baseline, so it gets exactly zero,
    # and the real tokens share all of f(x) − f(baseline).
    assert np.all(torch_tokens[ids == 0] == 0) and np.all(keras_tokens[ids == 0] == 0)
    np.testing.assert_allclose(torch_tokens.sum(axis=1),
                               torch_result.outputs - torch_result.baseline_outputs,
                               atol=0.05 * np.abs(torch_result.outputs
                                                  - torch_result.baseline_outputs).max())


def test_text_helpers_on_hand_built_numbers():
    ids = np.array([[0, 2, 3, 2], [0, 0, 3, 4]])
    tokens = np.array([[0, 1.0, -1.0, 3.0], [0, 0, -2.0, 0.5]])
    top = top_tokens(ids, tokens, {2: "good", 3: "bad", 4: "ok"}, min_count=1)
    assert [t["token"] for t in top["positive"]] == ["good", "ok"]
    assert top["positive"][0] == {"token": "good", "mean": 2.0, "count": 2}
    assert [t["token"] for t in top["negative"]] == ["bad"]
    assert top_tokens(ids, tokens, {}, min_count=2)["positive"][0]["token"] == "<id 2>"
    real = ids != 0
    same = sentence_agreement(tokens, tokens, real)
    assert same["cosine_median"] == pytest.approx(1) and same["n_rows_spearman"] == 1
    assert sentence_agreement(tokens, -tokens, real)["spearman_median"] == pytest.approx(-1)
    three = np.array([[0, 5, 6], [7, 8, 9], [0, 0, 1], [0, 3, 3], [0, 4, 4]])
    assert example_rows(three, np.array([0, 1, 1, 1, 0]), 2, min_tokens=2,
                        max_tokens=3) == [1, 0]
    # Turns over the groups, labels alternating.
    assert example_rows(three, np.array([0, 1, 1, 1, 0]), 3, min_tokens=2, max_tokens=3,
                        groups=np.array(["a", "a", "a", "b", "b"])) == [1, 4, 0]
    with pytest.raises(ValueError, match="baseline"):
        token_attributions(None, ids, baselines="mean")


def test_text_audit_reports_top_tokens_examples_and_agreement(sentiment):
    _, dataset, _, twins = sentiment
    result = text_attribution_audit(twins, dataset, n_rows=40, n_examples=2)
    assert result["kind"] == "text" and result["settings"]["baselines"].startswith("padding")
    ig = result["methods"]["integrated_gradients"]
    assert ig["captum_check"]["max_abs_difference"] <= TOLERANCE
    assert ig["agreement"]["summary"]["frameworks"]["cosine_p5"] > 0.999
    example = ig["examples"][0]
    assert set(example["twins"]) == {"torch/0", "keras/0"}
    assert len(example["tokens"]) == len(example["twins"]["torch/0"]["attributions"])
    assert set(example["group"]) == {"domain"}
    entry = ig["twins"]["torch/1"]
    assert entry["completeness"]["flagged"] is False
    assert set(entry["top_tokens"]) == {"positive", "negative"}


def test_gradients_through_an_embedding_need_one(digits):
    _, _, network, twins = digits
    with pytest.raises(ValueError, match="no embedding"):
        differentiated_row_shape(network, from_embeddings=True)
    assert differentiated_row_shape(network) == (8, 8, 1)


# -- dispatch ---------------------------------------------------------------------------------

def test_run_attribution_dispatches_by_network(digits, sentiment):
    spec, dataset, network, twins = digits
    spec = dataclasses.replace(spec, attribution=dataclasses.replace(spec.attribution,
                                                                     n_rows=20))
    assert run_attribution(spec, dataset, twins, network)["kind"] == "image"
    spec, dataset, network, twins = sentiment
    spec = dataclasses.replace(spec, attribution=dataclasses.replace(spec.attribution,
                                                                     n_rows=20))
    assert run_attribution(spec, dataset, twins, network)["kind"] == "text"
    autoencoder_spec, autoencoder_data, autoencoder = small("autoencoder", test_rows=20)
    result = run_attribution(autoencoder_spec, autoencoder_data, {}, autoencoder)
    assert result["status"] == "not_applicable" and "reconstruction" in result["reason"]
