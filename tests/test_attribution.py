"""Attribution: our Integrated Gradients against captum and hand-worked answers, the torch and
Keras twins against each other, the other methods' "not applicable" and error paths, and the
agreement and fairness-link figures on hand-made attributions."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from twinaudit.attribution import (
    attribution_audit,
    attribution_share,
    compare_attributions,
    fairness_link,
    gradient_function,
    integrated_gradients,
    matching_columns,
    quadrature,
    row_cosine,
    run_method,
    top_k_overlap,
    twin_agreement,
)
from twinaudit.attribution.methods import AttributionSettings, log_odds_module
from twinaudit.nets import MLPSpec, initial_weights
from twinaudit.twins import twin_class

FRAMEWORKS = ["torch", "keras"]


def built_twin(framework, network, weights=None, random_state=0):
    twin = twin_class(framework)(network, random_state=random_state).initialize()
    if weights is not None:
        twin.set_weights(weights)
    return twin


def log_odds(twin, X):
    logits = twin.decision_function(X).astype(np.float64)
    return logits[:, 1] - logits[:, 0]


@pytest.fixture(scope="module")
def adult_rows(small_dataset):
    return small_dataset.test.X[:300], small_dataset.train.X


@pytest.fixture(scope="module")
def adult_network(small_dataset):
    return MLPSpec(n_inputs=small_dataset.train.X.shape[1], hidden=(16, 8))


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


# -- hand-worked answers ----------------------------------------------------------------------

LINEAR_NETWORK = MLPSpec(n_inputs=3, hidden=())
LINEAR_WEIGHTS = {
    "dense_0.kernel": np.array([[1.0, 3.0], [2.0, -1.0], [0.5, 0.5]], dtype=np.float32),
    "dense_0.bias": np.array([0.3, -0.2], dtype=np.float32),
}


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


# One hidden ReLU unit h = relu(x₁ + x₂ − 1), and z1 − z0 = 2h.
RELU_NETWORK = MLPSpec(n_inputs=2, hidden=(1,))
RELU_WEIGHTS = {
    "dense_0.kernel": np.array([[1.0], [1.0]], dtype=np.float32),
    "dense_0.bias": np.array([-1.0], dtype=np.float32),
    "dense_1.kernel": np.array([[-1.0, 1.0]], dtype=np.float32),
    "dense_1.bias": np.array([0.0, 0.0], dtype=np.float32),
}


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


# -- the two twins ----------------------------------------------------------------------------

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


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_gradient_function_gives_the_log_odds_and_its_gradient(framework):
    twin = built_twin(framework, LINEAR_NETWORK, LINEAR_WEIGHTS)
    X = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    outputs, gradients = gradient_function(twin)(X)
    np.testing.assert_allclose(outputs, log_odds(twin, X), atol=1e-6)
    np.testing.assert_allclose(gradients, [[2.0, -3.0, 0.0]], atol=1e-6)


# -- completeness -----------------------------------------------------------------------------

def test_completeness_holds_and_the_delta_is_what_it_says(adult_rows, adult_network):
    X, X_train = adult_rows
    smooth = MLPSpec(n_inputs=adult_network.n_inputs, hidden=(16, 8), activation="tanh")
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


# -- bad input --------------------------------------------------------------------------------

def test_a_baseline_of_the_wrong_width_is_a_clear_error():
    twin = built_twin("torch", LINEAR_NETWORK, LINEAR_WEIGHTS)
    X = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="must have 3 values"):
        integrated_gradients(gradient_function(twin), X, np.zeros(4))
    with pytest.raises(ValueError, match="unknown baselines"):
        integrated_gradients(gradient_function(twin), X, "median")
    with pytest.raises(ValueError, match="X_train"):
        integrated_gradients(gradient_function(twin), X, "train_mean")


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


# -- agreement --------------------------------------------------------------------------------

def test_identical_attributions_agree_perfectly_and_permuted_ones_do_not():
    rng = np.random.default_rng(0)
    scale = np.linspace(0.1, 3.0, 20)                     # distinct importances per feature
    attributions = rng.normal(size=(50, 20)) * scale
    same = compare_attributions(attributions, attributions.copy())
    assert same["spearman"] == pytest.approx(1.0)
    assert same["top_k_overlap"] == 1.0
    assert same["cosine_median"] == pytest.approx(1.0) and same["cosine_p5"] == pytest.approx(1.0)
    reversed_columns = compare_attributions(attributions, attributions[:, ::-1])
    assert reversed_columns["spearman"] < -0.9
    assert reversed_columns["top_k_overlap"] == 0.0   # top 10 of 20 reversed: disjoint halves
    assert reversed_columns["cosine_median"] < 0.5


def test_agreement_figures_by_hand():
    # Importances (3, 2, 1, 0) against (3, 2, 0, 1): ranks differ in one swap,
    # ρ = 1 − 6·(1 + 1)/(4·15) = 0.8; the top 2 are the same, the top 3 share 2 of 3.
    first = np.array([[3.0, 2.0, 1.0, 0.0]])
    second = np.array([[3.0, 2.0, 0.0, 1.0]])
    assert compare_attributions(first, second, k=2)["spearman"] == pytest.approx(0.8)
    assert top_k_overlap(first[0], second[0], k=2) == 1.0
    assert top_k_overlap(first[0], second[0], k=3) == pytest.approx(2 / 3)
    np.testing.assert_allclose(row_cosine(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]),
                                          np.array([[0.0, 1.0], [0.0, 0.0], [-2.0, -2.0]])),
                               [0.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="same rows"):
        compare_attributions(first, second[:, :3])


def test_twin_agreement_sets_frameworks_against_seeds():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(30, 12)) * np.linspace(0.5, 2, 12)
    other_seed = rng.normal(size=(30, 12))
    attributions = {("torch", 0): base, ("keras", 0): base + 1e-9,
                    ("torch", 1): other_seed, ("keras", 1): other_seed.copy()}
    agreement = twin_agreement(attributions)
    assert [pair["seed"] for pair in agreement["frameworks"]] == [0, 1]
    assert agreement["summary"]["frameworks"]["cosine_median"] == pytest.approx(1.0)
    assert [pair["seeds"] for pair in agreement["seeds"]["torch"]] == [[0, 1]]
    assert agreement["summary"]["seeds"]["cosine_median"] < 0.5
    assert twin_agreement({("torch", 0): base})["summary"] == {"frameworks": None,
                                                                "seeds": None}


# -- the fairness link ------------------------------------------------------------------------

FEATURES = ["age", "sex=Female", "sex=Male", "relationship=Wife", "race=White"]


def test_matching_columns_selects_one_hot_columns_by_source_name_or_prefix():
    assert matching_columns(FEATURES, ["sex"]) == [1, 2]
    assert matching_columns(FEATURES, ["relationship="]) == [3]
    assert matching_columns(FEATURES, ["age", "sex=Male"]) == [0, 2]
    assert matching_columns(FEATURES, ["se"]) == []            # no partial-word matches


def test_sensitive_and_proxy_shares_by_hand():
    attributions = np.array([
        # age  F     M     Wife  White
        [4.0, 1.0, 0.0, -3.0, 2.0],    # row of group Female: |·| sums to 10
        [1.0, 0.0, -1.0, 0.0, 0.0],    # row of group Male: |·| sums to 2
    ])
    groups = pd.DataFrame({"sex": ["Female", "Male"]})
    link = fairness_link(attributions, FEATURES, groups, sensitive_columns=["sex"],
                         proxy_columns=["sex=", "relationship="], top_k=2)
    # Overall mass 12: sensitive (sex=*) 1 + 1 = 2; proxies other than sex: Wife 3.
    assert link["share"]["sensitive"] == pytest.approx(2 / 12)
    assert link["share"]["proxy"] == pytest.approx(3 / 12)
    assert link["share"]["sensitive_or_proxy"] == pytest.approx(5 / 12)
    assert link["share_by_group"]["sex"]["Female"]["sensitive"] == pytest.approx(1 / 10)
    assert link["share_by_group"]["sex"]["Male"]["sensitive"] == pytest.approx(1 / 2)
    # Top 2 by mean |·|: age (2.5) then relationship=Wife (1.5).
    differences = link["group_differences"]["sex"]
    assert list(differences) == ["age", "relationship=Wife"]
    assert differences["age"]["by_group"] == {"Female": 4.0, "Male": 1.0}
    assert differences["age"]["difference"] == pytest.approx(3.0)
    assert attribution_share(np.zeros((2, 5)), [1]) is None


# -- the audit, end to end --------------------------------------------------------------------

def test_attribution_audit_end_to_end(small_dataset, adult_network):
    twins = {(framework, seed): built_twin(framework, adult_network, random_state=seed)
             for framework in FRAMEWORKS for seed in (0, 1)}
    result = attribution_audit(
        twins, small_dataset, proxy_columns=["relationship=", "marital_status="], n_rows=60,
        methods=["integrated_gradients", "deeplift", "shap_gradient"], n_explainer_rows=10,
        n_metric_rows=10, random_state=0,
    )
    assert json.loads(json.dumps(result)) == result                       # JSON-ready
    assert result["settings"]["n_rows"] == 60 and result["columns"]["unmatched"] == []
    ig = result["methods"]["integrated_gradients"]
    assert set(ig["twins"]) == {"torch/0", "torch/1", "keras/0", "keras/1"}
    assert ig["captum_check"]["max_abs_difference"] < 1e-5
    assert len(ig["twins"]["keras/1"]["global_importance"]) == len(small_dataset.feature_names)
    assert ig["twins"]["torch/0"]["infidelity"] is not None
    # Identical weights: torch and Keras agree exactly; two seeds do not.
    assert ig["agreement"]["summary"]["frameworks"]["cosine_p5"] == pytest.approx(1.0, abs=1e-5)
    assert ig["agreement"]["summary"]["seeds"]["cosine_median"] < 0.99
    assert result["methods"]["deeplift"]["twins"]["keras/0"]["status"] == "not_applicable"
    shap_twins = result["methods"]["shap_gradient"]["twins"]
    assert shap_twins["torch/0"]["status"] == "ok"
    # shap on a Keras 3 model may fail in some versions: then the entry says why.
    assert all(entry["status"] == "ok" or entry["reason"] for entry in shap_twins.values())
    with pytest.raises(ValueError, match="unknown attribution methods"):
        attribution_audit(twins, small_dataset, methods=["lime"])


def test_importing_attribution_loads_no_framework():
    code = ("import sys, twinaudit.attribution\n"
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'captum', 'shap') "
            "if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, timeout=120)
    assert completed.stdout.strip() == "[]"
