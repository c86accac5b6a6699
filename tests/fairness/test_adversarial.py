"""Adversarial debiasing: the paper's update checked by hand, the adversary's gradients
against finite differences, the twin proof of adversarial training (and its mutation), and
both frameworks' adversarial twins on ProPublica's COMPAS file."""

import numpy as np
import pytest

from twinaudit.fairness.adversarial import (
    AdversarialSettings,
    Adversary,
    adversarial_proof,
    debiased_gradients,
    fit_adversarial,
)
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets.mlp import MLPNetwork
from twinaudit.vocabulary import FRAMEWORKS

from helpers import compas_arrays

SCHEDULE = Schedule(epochs=3, batch_size=128, learning_rate=0.01, early_stopping=False)
NETWORK = MLPNetwork(n_inputs=6, hidden=(8,))


def test_the_update_removes_the_adversary_helping_part_and_pushes_against_it():
    rng = np.random.default_rng(0)
    predictor = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
    adversary = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
    flat_p = np.concatenate([predictor["a"].ravel(), predictor["b"]])
    flat_a = np.concatenate([adversary["a"].ravel(), adversary["b"]])
    out = debiased_gradients(predictor, adversary, alpha=2.0, project=True)
    flat = np.concatenate([out["a"].ravel(), out["b"]])
    # By hand: g_P − (g_P·g_A / g_A·g_A) g_A − α g_A.
    np.testing.assert_allclose(flat, flat_p - flat_p @ flat_a / (flat_a @ flat_a) * flat_a
                               - 2.0 * flat_a, rtol=1e-12)
    # What is left of g_P is orthogonal to the adversary's gradient.
    assert abs((flat + 2.0 * flat_a) @ flat_a) < 1e-10
    plain = debiased_gradients(predictor, adversary, alpha=0.0, project=False)
    np.testing.assert_array_equal(plain["a"], predictor["a"])


@pytest.mark.parametrize("constraints", ["demographic_parity", "equalized_odds"])
def test_the_adversarys_margin_gradient_matches_finite_differences(constraints):
    rng = np.random.default_rng(1)
    margin, y, groups = rng.normal(size=20), rng.integers(0, 2, 20), rng.integers(0, 3, 20)
    settings = AdversarialSettings(constraints=constraints)

    def loss(m):
        adversary = Adversary(3, settings, SCHEDULE, seed=4)
        inputs, _ = adversary.inputs(m, y)
        logits = inputs @ adversary.weights["kernel"] + adversary.weights["bias"]
        logits = logits - logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return -log_p[np.arange(20), groups].mean()

    analytic = Adversary(3, settings, SCHEDULE, seed=4).step(margin, y, groups)
    step = 1e-6
    numeric = np.array([(loss(margin + step * e) - loss(margin - step * e)) / (2 * step)
                        for e in np.eye(20)])
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


@pytest.fixture(scope="module")
def compas():
    """COMPAS with race coded 1 for African-American, 0 for Caucasian."""
    X, y, race, X_test, y_test, race_test = compas_arrays(4000)
    return (X, y, (race == "African-American").astype(int), X_test, y_test,
            (race_test == "African-American").astype(int))


@pytest.mark.parametrize("constraints", ["demographic_parity", "equalized_odds"])
def test_the_adversarial_twins_pass_the_proof_and_fail_it_without_the_projection(
        compas, constraints):
    X, y, groups = compas[:3]
    settings = AdversarialSettings(constraints=constraints)
    proof = adversarial_proof(NETWORK, SCHEDULE, X, y, groups, settings, FRAMEWORKS)
    assert proof["passed"] and proof["max_difference"] < 1e-12, proof["text"]
    mutated = adversarial_proof(NETWORK, SCHEDULE, X, y, groups, settings, FRAMEWORKS,
                                mutate_second=True)
    assert not mutated["passed"] and mutated["max_difference"] > 1e-3, mutated["text"]


@pytest.mark.slow
def test_both_frameworks_adversarial_twins_agree_and_are_fairer(compas):
    from fairlearn.metrics import demographic_parity_difference

    X, y, groups, X_test, y_test, groups_test = compas
    settings = AdversarialSettings(alpha=3.0)
    twins = {framework: fit_adversarial(twin_class(framework)(NETWORK, SCHEDULE,
                                                              random_state=0),
                                        X, y, groups, settings)
             for framework in FRAMEWORKS}
    scores = [twin.predict_proba(X_test)[:, 1] for twin in twins.values()]
    assert np.abs(scores[0] - scores[1]).max() < 1e-4  # float32 twins, 93 steps
    plain = twin_class(FRAMEWORKS[0])(NETWORK, SCHEDULE, random_state=0).fit(X, y)

    def dpd(model):
        return demographic_parity_difference(y_test, model.predict(X_test),
                                             sensitive_features=groups_test)

    # By fairlearn's metric on the test split: the adversary moved the twins towards parity.
    assert dpd(twins[FRAMEWORKS[0]]) < dpd(plain) - 0.01, (dpd(twins[FRAMEWORKS[0]]),
                                                           dpd(plain))
