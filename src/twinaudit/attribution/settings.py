"""The settings every attribution method is given besides the twin."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AttributionSettings:
    """What every method is given besides the twin: rows, baseline, background, seeds.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features), float32
        The rows to explain.
    baseline : ndarray of shape (n_features,), float32
        The reference row of Integrated Gradients and DeepLift.
    background : ndarray of shape (n_background, n_features), float32
        The reference sample of GradientShap and the shap explainers, the same for every twin.
    random_state : int
        Seeds every random draw (GradientShap's baselines, shap's samples, the metrics'
        perturbations), so both twins see the same draws.
    n_steps, integration_method : int, str
        Integrated Gradients' quadrature.
    n_explainer_rows : int
        Rows explained by shap's GradientExplainer (it loops over rows in Python).
    n_reference_rows : int
        Rows explained by the model-agnostic permutation explainer.
    n_metric_rows : int
        Rows on which captum's infidelity and sensitivity_max are estimated.
    """

    X: np.ndarray
    baseline: np.ndarray
    background: np.ndarray
    random_state: int = 0
    n_steps: int = 50
    integration_method: str = "gausslegendre"
    internal_batch_size: int = 512
    n_explainer_rows: int = 200
    n_reference_rows: int = 50
    n_metric_rows: int = 100
