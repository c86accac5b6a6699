"""Integrated Gradients of the image (CNN) twins: per-class heat maps.

The one quadrature of ``integrated_gradients`` is reused on flattened images. Checked against
captum on the torch twin (1e-5), and the other twins against the torch twin with identical
weights. Twins are initialised, not trained (the attributions of any fixed weights must
agree), on a small real subset of digits.
"""

import numpy as np
import pytest

from twinaudit.attribution.gradients import gradient_function
from twinaudit.attribution.image import (
    class_heat_maps,
    heat_map_agreement,
    image_attribution_audit,
    image_attributions,
)
from twinaudit.attribution.integrated_gradients import integrated_gradients, merge_results
from twinaudit.vocabulary import FRAMEWORKS

TOLERANCE = 1e-5


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
    assert set(ig["agreement"]["seeds"]) == set(FRAMEWORKS)
    assert sum(result["rows_per_class"]) == result["settings"]["n_rows"] == 50
