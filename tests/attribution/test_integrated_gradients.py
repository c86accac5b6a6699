"""Our Integrated Gradients against captum and hand-worked answers, the twins of every
framework against each other, completeness and its flag, and bad baselines."""

import numpy as np
import pytest

from twinaudit.attribution import gradient_function, integrated_gradients, quadrature
from twinaudit.attribution.torch_bridge import log_odds_module
from twinaudit.nets import MLPNetwork, initial_weights
from twinaudit.vocabulary import FRAMEWORKS

from helpers import (
    LINEAR_NETWORK,
    LINEAR_WEIGHTS,
    RELU_NETWORK,
    RELU_WEIGHTS,
    built_twin,
    log_odds,
)

# -- the quadrature and captum ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "riemann_right",
                                    "riemann_middle", "riemann_trapezoid"])
def test_quadrature_is_captums(method):
    from captum.attr._utils.approximation_methods import approximation_parameters

    step_sizes, alphas = approximation_parameters(method)
    ours_alphas, ours_weights = quadrature(method, 7)
    np.testing.assert_allclose(ours_alphas, alphas(7), atol=1e-7)
    np.testing.assert_allclose(ours_weights, step_sizes(7), atol=1e-12)
    # captum's trapezoid rule puts 7 points 1/6 apart but weighs them 1/7: its weights sum to
    # 6/7, not 1. We keep captum's rule (equal attributions are the point) and say so.
    expected_sum = 6 / 7 if method == "riemann_trapezoid" else 1.0
    assert ours_weights.sum() == pytest.approx(expected_sum)


def test_quadrature_rejects_unknown_methods_and_too_few_steps():
    with pytest.raises(ValueError, match="unknown integration method"):
        quadrature("simpson", 50)
    with pytest.raises(ValueError, match="n_steps"):
        quadrature("riemann_trapezoid", 1)


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid"])
def test_torch_integrated_gradients_equal_captums(method, adult_rows, adult_network):
    import torch
    from captum.attr import IntegratedGradients

    X, X_train = adult_rows
    twin = built_twin("torch", adult_network, random_state=3)
    baseline = X_train.mean(axis=0).astype(np.float32)

    def forward(inputs):  # captum explains the same function: the log-odds of class 1
        logits = twin.model_(inputs)
        return logits[:, 1] - logits[:, 0]

    expected = IntegratedGradients(forward).attribute(
        torch.from_numpy(X), baselines=torch.from_numpy(baseline[None]), n_steps=50,
        method=method,
    ).detach().numpy()
    # A small internal batch: rows split over several calls must not change anything.
    ours = integrated_gradients(gradient_function(twin), X, "train_mean", X_train=X_train,
                                n_steps=50, method=method, internal_batch_size=64)
    assert np.abs(expected).max() > 1e-2  # not vacuous: the attributions are not all zero
    np.testing.assert_allclose(ours.attributions, expected, rtol=0, atol=1e-5)
    # The log_odds_module that captum's other methods see is the same function.
    np.testing.assert_allclose(log_odds_module(twin)(torch.from_numpy(X)).detach().numpy(),
                               log_odds(twin, X), atol=1e-5)


# -- hand-worked answers ---------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left"])
def test_a_linear_network_gets_x_minus_baseline_times_w(framework, method):
    # f = z1 − z0 = x · (w₁ − w₀) + const, so its gradient is w₁ − w₀ = (2, −3, 0) everywhere
    # and IG = (x − x') · (2, −3, 0) exactly, whatever the quadrature (the weights sum to 1).
    twin = built_twin(framework, LINEAR_NETWORK, LINEAR_WEIGHTS)
    X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]], dtype=np.float32)
    baseline = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    result = integrated_gradients(gradient_function(twin), X, baseline, n_steps=5,
                                  method=method)
    np.testing.assert_allclose(result.attributions, (X - baseline) * [2.0, -3.0, 0.0],
                               atol=1e-6)
    np.testing.assert_allclose(result.deltas, 0, atol=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_one_relu_unit_gets_the_hand_worked_answer(framework):
    # From the zero baseline to x with x₁ + x₂ = 2 the unit's input is 2α − 1: the unit is off
    # for α < ½ and the gradient is (2, 2) for α > ½, so ∫ grad dα = (1, 1) and IG = x · 1.
    # Gauss–Legendre points and weights are symmetric about ½ (50 points, none at ½), so the
    # quadrature integrates the step exactly. f(x) − f(0) = 2·(2 − 1) − 0 = 2 = sum of IG.
    twin = built_twin(framework, RELU_NETWORK, RELU_WEIGHTS)
    X = np.array([[1.0, 1.0], [2.0, 0.0], [0.5, 1.5]], dtype=np.float32)
    result = integrated_gradients(gradient_function(twin), X, "zeros", n_steps=50)
    np.testing.assert_allclose(result.attributions, X, atol=1e-5)
    np.testing.assert_allclose(result.outputs, 2.0, atol=1e-6)
    np.testing.assert_allclose(result.baseline_outputs, 0.0, atol=1e-6)
    # A row whose path never switches the unit on gets nothing: x₁ + x₂ = 0.8 < 1.
    off = integrated_gradients(gradient_function(twin), np.array([[0.4, 0.4]], np.float32))
    np.testing.assert_allclose(off.attributions, 0.0, atol=1e-7)


# -- the twins -------------------------------------------------------------------------------


def test_keras_integrated_gradients_equal_torchs_for_identical_weights(adult_rows,
                                                                       adult_network):
    X, X_train = adult_rows
    weights = initial_weights(adult_network, 7)
    results = [
        integrated_gradients(gradient_function(built_twin(framework, adult_network, weights)),
                             X, "train_mean", X_train=X_train)
        for framework in FRAMEWORKS
    ]
    assert np.abs(results[0].attributions).max() > 1e-2
    np.testing.assert_allclose(results[1].attributions, results[0].attributions, rtol=0,
                               atol=1e-5)
    np.testing.assert_allclose(results[1].outputs, results[0].outputs, atol=1e-5)


# -- completeness ---------------------------------------------------------------------------


def test_completeness_holds_and_the_delta_is_what_it_says(adult_rows, adult_network):
    X, X_train = adult_rows
    smooth = MLPNetwork(n_inputs=adult_network.n_inputs, hidden=(16, 8), activation="tanh")
    twin = built_twin("torch", smooth, random_state=1)
    result = integrated_gradients(gradient_function(twin), X, "train_mean", X_train=X_train)
    baseline_output = log_odds(twin, X_train.mean(axis=0, keepdims=True).astype(np.float32))
    np.testing.assert_allclose(result.outputs, log_odds(twin, X), atol=1e-5)
    np.testing.assert_allclose(result.baseline_outputs, baseline_output[0], atol=1e-5)
    np.testing.assert_allclose(
        result.deltas, result.attributions.sum(axis=1) - (result.outputs - result.baseline_outputs),
        atol=1e-12)
    # A smooth network and 50 Gauss–Legendre points: the sum is f(x) − f(x') to ~1e-6.
    assert np.abs(result.deltas).max() < 1e-4
    summary = result.completeness_summary()
    assert summary["flagged"] is False and summary["n_rows_flagged"] == 0


def test_a_coarse_quadrature_is_flagged(adult_rows, adult_network):
    X, X_train = adult_rows
    twin = built_twin("torch", adult_network, random_state=1)
    result = integrated_gradients(gradient_function(twin), X, "train_mean", X_train=X_train,
                                  n_steps=2, method="riemann_left", threshold=0.05)
    summary = result.completeness_summary()
    assert summary["flagged"] is True and summary["relative_delta"] > 0.05
    assert 0 < summary["n_rows_flagged"] == int(result.flagged.sum())
    assert result.flagged.tolist() == (result.relative_deltas > 0.05).tolist()


# -- bad input ------------------------------------------------------------------------------


def test_a_baseline_of_the_wrong_width_is_a_clear_error():
    twin = built_twin("torch", LINEAR_NETWORK, LINEAR_WEIGHTS)
    X = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="must have 3 values"):
        integrated_gradients(gradient_function(twin), X, np.zeros(4))
    with pytest.raises(ValueError, match="unknown baselines"):
        integrated_gradients(gradient_function(twin), X, "median")
    with pytest.raises(ValueError, match="X_train"):
        integrated_gradients(gradient_function(twin), X, "train_mean")
