"""Attribution: one batched Integrated Gradients for both twins, captum and shap beside it,
and how the twins' explanations agree — for tabular, image (heat maps per class) and text
(tokens through the embedding) twins.

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
from twinaudit.attribution.gradients import class_gradient_functions, gradient_function
from twinaudit.attribution.image import image_attribution_audit, image_attributions
from twinaudit.attribution.integrated_gradients import (
    IntegratedGradientsResult,
    integrated_gradients,
    merge_results,
    quadrature,
    resolve_baselines,
)
from twinaudit.attribution.methods import METHODS, AttributionSettings, MethodOutcome, run_method
from twinaudit.attribution.tabular import DEFAULT_METHODS, attribution_audit
from twinaudit.attribution.text import text_attribution_audit, token_attributions

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "AttributionSettings",
    "IntegratedGradientsResult",
    "MethodOutcome",
    "attribution_audit",
    "attribution_share",
    "class_gradient_functions",
    "compare_attributions",
    "fairness_link",
    "global_importance",
    "gradient_function",
    "image_attribution_audit",
    "image_attributions",
    "integrated_gradients",
    "matching_columns",
    "merge_results",
    "quadrature",
    "resolve_baselines",
    "row_cosine",
    "run_method",
    "spearman",
    "text_attribution_audit",
    "token_attributions",
    "top_k_overlap",
    "twin_agreement",
]
