"""fairlearn's reductions (Agarwal et al., ICML 2018) with any scikit-learn classifier that
takes ``sample_weight`` as the estimator: a twin of either framework, in a run.

``ExponentiatedGradient`` reduces fair classification to a sequence of weighted, relabelled
training runs of the estimator and returns a randomised classifier: a weighted mixture of the
estimators it trained. ``GridSearch`` trains one estimator per Lagrange multiplier of a grid
and keeps the best trade-off. Both clone the estimator (scikit-learn's ``clone``: the same
parameters, the seed included), so with a twin every one of those runs starts from the same
numpy-drawn weights and batch order in both frameworks.

What comes back is plain data (the test split's predictions and how many estimators were
trained), so the reduction can run as one task on the engine and nothing framework-made
travels back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

#: [mitigation] methods that are fairlearn reductions.
REDUCTIONS = ("exponentiated_gradient", "grid_search")


@dataclass(frozen=True)
class ReductionOutcome:
    """A fitted reduction's test predictions and what it took."""

    #: The probability that the randomised classifier predicts 1 (ExponentiatedGradient: the
    #: mixture's weight on the estimators that predict 1; GridSearch: the chosen estimator's
    #: score).
    score: np.ndarray
    #: Predicted labels: ExponentiatedGradient's randomised draw (seeded), GridSearch's
    #: chosen estimator's labels.
    y_pred: np.ndarray
    #: Estimators trained (the estimator's fits; a relabelling with one label gives fairlearn's
    #: constant classifier instead, counted apart).
    n_trained: int
    #: Estimators with weight in the randomised classifier (GridSearch: 1).
    n_used: int
    #: Constant classifiers fairlearn used where a relabelling had one label only.
    n_constant: int
    fit_seconds: float


def fit_reduction(method: str, estimator: Any, X: np.ndarray, y: np.ndarray,
                  groups: np.ndarray, X_test: np.ndarray, *, constraints: str, eps: float,
                  max_iter: int, grid_size: int, random_state: int) -> ReductionOutcome:
    """Fit ``method`` (one of :data:`REDUCTIONS`) on the training split and predict the test
    split.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Its ``fit`` takes ``sample_weight``; ``predict`` gives labels in {0, 1}.
    groups : array of shape (n_rows,)
        Each training row's group label (an intersection already joined into one label).
    constraints : {"demographic_parity", "equalized_odds"}
    eps : float
        ExponentiatedGradient's bound on the constraint violation.
    max_iter : int
        ExponentiatedGradient's most iterations (each trains one estimator).
    grid_size : int
        GridSearch's number of Lagrange multipliers (each trains one estimator).
    random_state : int
        Seeds ExponentiatedGradient's randomised predictions.
    """
    from fairlearn.reductions import (  # heavy imports, at the point of use
        DemographicParity,
        EqualizedOdds,
        ExponentiatedGradient,
        GridSearch,
    )

    moment = {"demographic_parity": DemographicParity,
              "equalized_odds": EqualizedOdds}[constraints]()
    started = time.perf_counter()
    if method == "exponentiated_gradient":
        reduction: Any = ExponentiatedGradient(estimator, moment, eps=eps, max_iter=max_iter)
    elif method == "grid_search":
        reduction = GridSearch(estimator, moment, grid_size=grid_size)
    else:
        raise ValueError(f"method must be one of {', '.join(REDUCTIONS)}; got {method!r}")
    reduction.fit(X, y, sensitive_features=groups)
    seconds = time.perf_counter() - started
    if method == "exponentiated_gradient":
        # fairlearn's own mixture probabilities (a private method: predict draws from them).
        score = np.asarray(reduction._pmf_predict(X_test))[:, 1]
        y_pred = reduction.predict(X_test, random_state=random_state)
        n_used = int(np.count_nonzero(reduction.weights_.to_numpy()))
        n_constant = reduction.n_oracle_calls_dummy_returned_
        n_trained = reduction.n_oracle_calls_ - n_constant
    else:
        best = reduction.predictors_[reduction.best_idx_]
        score = best.predict_proba(X_test)[:, 1]
        y_pred = reduction.predict(X_test)
        n_used = 1
        n_constant = sum(not hasattr(p, "network") for p in reduction.predictors_)
        n_trained = len(reduction.predictors_) - n_constant
    # The mixture's weights sum to 1 up to rounding, so a row every estimator predicts 1 can
    # score 1 + 1e-16: a probability all the same.
    return ReductionOutcome(np.clip(np.asarray(score, dtype=np.float64), 0.0, 1.0),
                            np.asarray(y_pred, dtype=np.intp), int(n_trained), n_used,
                            int(n_constant), seconds)
