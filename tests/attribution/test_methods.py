"""The other attribution methods: "not applicable" and error paths, recorded, not raised."""

import numpy as np
import pytest

from twinaudit.attribution import run_method
from twinaudit.attribution.methods import AttributionSettings

from helpers import RELU_NETWORK, RELU_WEIGHTS, built_twin


def _settings(X, background=None):
    X = np.asarray(X, dtype=np.float32)
    return AttributionSettings(X=X, baseline=np.zeros(X.shape[1], np.float32),
                               background=X if background is None else background)


def test_a_method_that_does_not_apply_is_not_applicable_not_a_crash():
    from torch import nn

    keras_twin = built_twin("keras", RELU_NETWORK, RELU_WEIGHTS)
    outcome = run_method("deeplift", keras_twin, _settings(np.ones((2, 2))))
    assert outcome.status == "not_applicable" and "PyTorch" in outcome.reason
    assert outcome.attributions is None
    # A layer DeepLift has no rule for (say a recurrent or GELU layer) is named in the reason.
    torch_twin = built_twin("torch", RELU_NETWORK, RELU_WEIGHTS)
    torch_twin.model_ = nn.Sequential(nn.Linear(2, 4), nn.GELU(), nn.Linear(4, 2))
    outcome = run_method("deeplift", torch_twin, _settings(np.ones((2, 2))))
    assert outcome.status == "not_applicable" and "GELU" in outcome.reason
    # ...while a network it does support runs.
    outcome = run_method("deeplift", built_twin("torch", RELU_NETWORK, RELU_WEIGHTS),
                         _settings(np.ones((2, 2))))
    assert outcome.status == "ok" and outcome.attributions.shape == (2, 2)


def test_a_failing_explainer_is_recorded_and_the_audit_carries_on(monkeypatch):
    import shap

    def broken(*args, **kwargs):
        raise TypeError("this model is not supported\nsecond line")

    monkeypatch.setattr(shap, "GradientExplainer", broken)
    twin = built_twin("keras", RELU_NETWORK, RELU_WEIGHTS)
    outcome = run_method("shap_gradient", twin, _settings(np.ones((3, 2))))
    assert outcome.status == "error"
    assert outcome.reason == "TypeError: this model is not supported"
    with pytest.raises(ValueError, match="unknown attribution method"):
        run_method("lime", twin, _settings(np.ones((3, 2))))
