"""fairlearn's reductions with twins as the estimator, on ProPublica's COMPAS file (data the
suite was not tuned on): both frameworks give the same randomised classifier, it is fairer
than the unconstrained twin by fairlearn's own metric, and a real difference between the two
twins shows in their agreement."""

import numpy as np
import pytest

from twinaudit.fairness.reductions import fit_reduction
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets.mlp import MLPNetwork
from twinaudit.vocabulary import FRAMEWORKS

from helpers import compas_arrays

pytestmark = pytest.mark.slow

SCHEDULE = Schedule(epochs=2, batch_size=128, learning_rate=0.01, early_stopping=False)


@pytest.fixture(scope="module")
def compas():
    return compas_arrays(3000)


NETWORK = MLPNetwork(n_inputs=6, hidden=(8,))


def _reduce(method, framework, data, *, seed=0):
    X, y, groups, X_test = data[:4]
    return fit_reduction(method, twin_class(framework)(NETWORK, SCHEDULE, random_state=seed),
                         X, y, groups, X_test, constraints="demographic_parity", eps=0.02,
                         max_iter=3, grid_size=5, random_state=0)


@pytest.mark.parametrize("method", ["exponentiated_gradient", "grid_search"])
def test_both_twins_give_the_same_fairer_classifier(compas, method):
    from fairlearn.metrics import demographic_parity_difference

    X, y, groups, X_test, y_test, groups_test = compas
    torch_outcome, keras_outcome = (_reduce(method, framework, compas)
                                    for framework in FRAMEWORKS)
    # The same randomised classifier: the same mixture (float32 twins round alike at this
    # size), the same seeded draw.
    np.testing.assert_allclose(torch_outcome.score, keras_outcome.score, atol=1e-5)
    assert (torch_outcome.y_pred == keras_outcome.y_pred).all()
    assert torch_outcome.n_trained == keras_outcome.n_trained >= 1
    if method == "grid_search":
        assert torch_outcome.n_trained + torch_outcome.n_constant == 5  # the grid size
    # Fairer than the unconstrained twin, by fairlearn's metric on the test split.
    plain = twin_class("torch")(NETWORK, SCHEDULE, random_state=0).fit(X, y)
    before = demographic_parity_difference(y_test, plain.predict(X_test),
                                           sensitive_features=groups_test)
    after = demographic_parity_difference(y_test, torch_outcome.y_pred,
                                          sensitive_features=groups_test)
    assert before > 0.1 and after < before - 0.03, (before, after)


def test_two_different_twins_do_not_give_the_same_classifier(compas):
    # Teeth for the agreement above: the keras twin of another seed starts elsewhere.
    torch_outcome = _reduce("grid_search", "torch", compas, seed=0)
    other = _reduce("grid_search", "keras", compas, seed=1)
    assert np.abs(torch_outcome.score - other.score).max() > 1e-3
