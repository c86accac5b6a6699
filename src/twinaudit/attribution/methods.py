"""Attribution methods beside our Integrated Gradients: captum on the torch twin, shap on both.

Every method is an entry in :data:`METHODS`: a check that says whether it applies to a twin
(and, if not, why) and a function that returns the attributions of the log-odds of class 1
(``logit_1 − logit_0``, see :mod:`twinaudit.attribution.gradients`) for the given rows.
:func:`run_method` runs one method on one twin and always returns a :class:`MethodOutcome` —
attributions, "not applicable" with a reason, or the error message of a third-party explainer
that failed (shap's support for Keras 3 models varies between versions) — never an exception
from the explainer itself, so one failing method cannot stop the audit.

captum and shap are imported inside the functions that use them: they are heavy, and captum
imports torch.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twinaudit.attribution.gradients import gradient_function
from twinaudit.attribution.integrated_gradients import integrated_gradients
from twinaudit.attribution.settings import AttributionSettings
from twinaudit.attribution.torch_bridge import (
    captum_attributions,
    captum_metrics,
    shap_gradient_model,
)

if TYPE_CHECKING:
    from twinaudit.frameworks.base import Twin

@dataclass
class MethodOutcome:
    """What one method produced on one twin.

    Attributes
    ----------
    status : {"ok", "not_applicable", "error"}
    attributions : ndarray of shape (n_rows, n_features), or None
        For ``"ok"``; rows are the first ``n_rows`` of the settings' ``X``.
    reason : str or None
        Why the method does not apply, or the explainer's error message.
    figures : dict
        JSON-ready extras: completeness (Integrated Gradients), infidelity, sensitivity_max.
    seconds : float
    """

    status: str
    attributions: np.ndarray | None = None
    reason: str | None = None
    figures: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Method:
    """A registered method: which twins it applies to and how it attributes.

    ``not_applicable(twin)`` returns a reason or None; ``attribute(twin, settings)`` returns
    ``(attributions, figures)``. ``third_party`` methods have their exceptions recorded rather
    than raised; ours raise, because an error there is a bug to see.
    """

    name: str
    not_applicable: Callable[[Twin], str | None]
    attribute: Callable[[Twin, AttributionSettings], tuple[np.ndarray, dict]]
    third_party: bool = True
    torch_metrics: bool = False


def run_method(name: str, twin: Twin, settings: AttributionSettings) -> MethodOutcome:
    """Run one method on one twin; see :data:`METHODS` for the names.

    Returns
    -------
    MethodOutcome
        ``"not_applicable"`` with a reason when the method does not fit the twin, ``"error"``
        with the message when a third-party explainer fails, otherwise the attributions.
    """
    if name not in METHODS:
        raise ValueError(f"unknown attribution method {name!r} (expected one of "
                         f"{sorted(METHODS)})")
    method = METHODS[name]
    reason = method.not_applicable(twin)
    if reason is not None:
        return MethodOutcome("not_applicable", reason=reason)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # Keras warns on every call from shap ("Expected: keras_tensor"): noise, not news.
            warnings.simplefilter("ignore")
            attributions, figures = method.attribute(twin, settings)
            seconds = time.perf_counter() - started
            if method.torch_metrics:
                figures = {**figures, **captum_metrics(name, twin, settings, attributions)}
    except Exception as error:  # noqa: BLE001 - recorded in the results, see the docstring
        if not method.third_party:
            raise
        return MethodOutcome("error", reason=_one_line(error),
                             seconds=time.perf_counter() - started)
    return MethodOutcome("ok", attributions=np.asarray(attributions, dtype=np.float64),
                         figures=figures, seconds=seconds)


def _one_line(error: BaseException, limit: int = 300) -> str:
    text = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
    return message if len(message) <= limit else message[:limit - 1] + "…"


# -- applicability ----------------------------------------------------------------------------

def _always(twin: Twin) -> str | None:
    return None


def _torch_only(twin: Twin) -> str | None:
    if twin.torch_module() is None:
        return (f"captum explains PyTorch models only; the {twin.framework} twin has no torch "
                "forward function")
    return None


def _deeplift_not_applicable(twin: Twin) -> str | None:
    reason = _torch_only(twin)
    if reason is not None:
        return reason
    from captum.attr._core.deep_lift import SUPPORTED_NON_LINEAR
    from torch import nn

    # DeepLift needs a rescale rule for every nonlinearity; captum has them for a fixed list
    # (no recurrent or attention layers), so any other layer would silently get plain gradients.
    linear_like = (nn.Linear, nn.Dropout, nn.Identity, nn.Flatten, nn.Sequential)
    unsupported = sorted({type(module).__name__ for module in twin.torch_module().modules()
                          if not isinstance(module, linear_like)
                          and type(module) not in SUPPORTED_NON_LINEAR})
    if unsupported:
        supported = ", ".join(sorted(kind.__name__ for kind in SUPPORTED_NON_LINEAR))
        return (f"DeepLift has rescale rules for {supported} only; this network has "
                f"{', '.join(unsupported)}")
    return None


def _shap_not_applicable(twin: Twin) -> str | None:
    backend = twin.environment().get("keras_backend")
    if backend not in (None, "tensorflow"):
        return f"shap's GradientExplainer needs Keras' tensorflow backend, not {backend!r}"
    return None


# -- the methods ------------------------------------------------------------------------------

def _integrated_gradients(twin: Twin, settings: AttributionSettings):
    result = integrated_gradients(
        gradient_function(twin), settings.X, settings.baseline, n_steps=settings.n_steps,
        method=settings.integration_method, internal_batch_size=settings.internal_batch_size,
    )
    return result.attributions, {"completeness": result.completeness_summary()}


def _shap_gradient(twin: Twin, settings: AttributionSettings):
    import shap

    model, background, X = shap_gradient_model(twin, settings.background,
                                               settings.X[:settings.n_explainer_rows])
    explainer = shap.GradientExplainer(model, background)
    # The same rseed for both twins: the same background draws and interpolation points.
    values = explainer.shap_values(X, nsamples=100, rseed=settings.random_state)
    return _log_odds_values(values), {"explained_rows": int(len(X))}


def _log_odds_values(values) -> np.ndarray:
    """shap's values of ``logit_1 − logit_0`` from its values of each logit.

    Expected gradients are linear in the explained output, so the values of a difference of
    outputs are the difference of their values; this keeps the twins' own models unwrapped.
    """
    if isinstance(values, list):  # older shap: one (n, d) array per output
        values = np.stack(values, axis=-1)
    values = np.asarray(values)                                               # (n, d, 2)
    return values[..., 1] - values[..., 0]                                    # (n, d)


def _shap_permutation(twin: Twin, settings: AttributionSettings):
    import shap

    X = settings.X[:settings.n_reference_rows]
    masker = shap.maskers.Independent(settings.background,
                                      max_samples=len(settings.background))

    def log_odds(rows: np.ndarray) -> np.ndarray:
        # log(p_1 / p_0) of predict_proba, taken from the logits so that a probability that
        # rounds to 0 cannot give log(0).
        logits = twin.decision_function(rows).astype(np.float64)
        return logits[:, 1] - logits[:, 0]

    explainer = shap.PermutationExplainer(log_odds, masker, seed=settings.random_state)
    # 2d + 1 evaluations is one forward and one backward pass over a permutation: the least
    # shap accepts, and enough for a reference on a small sample.
    explanation = explainer(X, max_evals=2 * X.shape[1] + 1, silent=True)
    return np.asarray(explanation.values), {"explained_rows": int(len(X))}


def _captum_method(name: str) -> Callable[[Twin, AttributionSettings], tuple[np.ndarray, dict]]:
    return lambda twin, settings: (captum_attributions(twin, settings, name), {})


METHODS: dict[str, Method] = {
    "integrated_gradients": Method("integrated_gradients", _always, _integrated_gradients,
                                   third_party=False, torch_metrics=True),
    "deeplift": Method("deeplift", _deeplift_not_applicable, _captum_method("deeplift"),
                       torch_metrics=True),
    "gradient_shap": Method("gradient_shap", _torch_only, _captum_method("gradient_shap"),
                            torch_metrics=True),
    "saliency": Method("saliency", _torch_only, _captum_method("saliency"),
                       torch_metrics=True),
    "input_x_gradient": Method("input_x_gradient", _torch_only,
                               _captum_method("input_x_gradient"), torch_metrics=True),
    "shap_gradient": Method("shap_gradient", _shap_not_applicable, _shap_gradient),
    "shap_permutation": Method("shap_permutation", _always, _shap_permutation),
}
"""Every method by name. Integrated Gradients is ours (both twins); ``deeplift``,
``gradient_shap``, ``saliency`` (signed gradient) and ``input_x_gradient`` are captum's on the
torch twin; ``shap_gradient`` (``shap.GradientExplainer``) runs on both twins and
``shap_permutation`` (``shap.PermutationExplainer`` on ``log(p_1 / p_0)``) is the
model-agnostic reference on a small sample."""
