"""Integrated Gradients of the text (Embedding + LSTM) twins: token scores.

Text is attributed in embedding space, with the one quadrature of ``integrated_gradients``.
Checked against captum on the torch twin (1e-5), and the other twins against the torch twin
with identical weights. Twins are initialised, not trained, on a small real subset of
sentiment.
"""

import numpy as np
import pytest

from twinaudit.attribution.text import (
    embedding_table,
    example_rows,
    sentence_agreement,
    text_attribution_audit,
    token_attributions,
    top_tokens,
)

TOLERANCE = 1e-5


def test_token_ig_equals_captum_layer_ig_on_the_embedding(sentiment):
    import torch
    from captum.attr import LayerIntegratedGradients

    from twinaudit.attribution.torch_bridge import log_odds_module

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

    from twinaudit.attribution.torch_bridge import log_odds_module

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


@pytest.mark.slow  # the whole text audit over every twin
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
