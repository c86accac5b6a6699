"""Attribution: one batched Integrated Gradients for both twins, captum and shap beside it,
and how the twins' explanations agree.

Importing this package imports no deep-learning framework; each framework is imported when a
twin of that framework is explained.
"""

from twinaudit.attribution.agreement import (
    attribution_share,
    compare_attributions,
    fairness_link,
    global_importance,
    matching_columns,
    row_cosine,
    spearman,
    top_k_overlap,
    twin_agreement,
)
from twinaudit.attribution.audit import DEFAULT_METHODS, attribution_audit
from twinaudit.attribution.gradients import gradient_function
from twinaudit.attribution.integrated_gradients import (
    IntegratedGradientsResult,
    integrated_gradients,
    quadrature,
    resolve_baselines,
)
from twinaudit.attribution.methods import METHODS, AttributionSettings, MethodOutcome, run_method

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "AttributionSettings",
    "IntegratedGradientsResult",
    "MethodOutcome",
    "attribution_audit",
    "attribution_share",
    "compare_attributions",
    "fairness_link",
    "global_importance",
    "gradient_function",
    "integrated_gradients",
    "matching_columns",
    "quadrature",
    "resolve_baselines",
    "row_cosine",
    "run_method",
    "spearman",
    "top_k_overlap",
    "twin_agreement",
]
