"""Every captum and torch wrapper of the attribution audit, in one module.

captum explains torch modules only, so each wrapper takes a twin's ``torch_module()`` (None for
twins of other frameworks, which captum cannot explain) and builds the torch side of a
comparison: the log-odds head, captum's explainers and metrics under seeded generators, and
the Integrated Gradients checks of the tabular, image and text drivers. torch and captum are
imported inside each function: importing this module imports neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from twinaudit.attribution.gradients import gradient_function
from twinaudit.attribution.integrated_gradients import integrated_gradients

if TYPE_CHECKING:
    from twinaudit.attribution.settings import AttributionSettings
    from twinaudit.frameworks.base import Twin

#: Standard deviation of the Gaussian noise of captum's infidelity, in the units of the
#: (standardised, one-hot) inputs.
INFIDELITY_NOISE = 0.1
#: Radius of the L∞ ball of captum's sensitivity_max.
SENSITIVITY_RADIUS = 0.02
N_PERTURB_SAMPLES = 10


def captum_attributions(twin: Twin, settings: AttributionSettings, name: str) -> np.ndarray:
    """captum's method ``name`` on the torch twin's log-odds, under seeded generators."""
    import torch

    explainer, keywords = captum_explainer(name, twin, settings)
    inputs = torch.from_numpy(np.ascontiguousarray(settings.X))
    with seeded(settings.random_state):
        attributions = explainer.attribute(inputs, **keywords)
    return attributions.detach().numpy()


@contextmanager
def seeded(random_state: int) -> Iterator[None]:
    """Seed torch's and numpy's global generators for a block, then put both back.

    captum draws from both: GradientShap its baselines with torch and its interpolation points
    with ``np.random``; sensitivity_max its perturbations with torch.
    """
    import torch

    # NPY002 is silenced on purpose below: captum draws from numpy's GLOBAL generator, so that
    # generator (not a Generator of ours) is saved, seeded and restored.
    numpy_state = np.random.get_state()  # noqa: NPY002 - captum uses the global generator
    try:
        with torch.random.fork_rng():
            torch.manual_seed(random_state)
            np.random.seed(random_state)  # noqa: NPY002 - captum uses the global generator
            yield
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002 - captum uses the global generator


def captum_explainer(name: str, twin: Twin, settings: AttributionSettings):
    """A captum explainer of the torch twin and the keywords of its ``attribute``."""
    import torch
    from captum import attr

    model = log_odds_module(twin)
    baseline = torch.from_numpy(settings.baseline[None])                      # (1, d)
    if name == "deeplift":
        return attr.DeepLift(model), {"baselines": baseline}
    if name == "gradient_shap":
        background = torch.from_numpy(np.ascontiguousarray(settings.background))
        return attr.GradientShap(model), {"baselines": background, "n_samples": 20,
                                          "stdevs": 0.0}
    if name == "saliency":
        # Signed gradients: the group comparison needs the direction; importance takes |·|.
        return attr.Saliency(model), {"abs": False}
    if name == "input_x_gradient":
        return attr.InputXGradient(model), {}
    if name == "integrated_gradients":
        return _OurIntegratedGradients(twin, settings), {}
    raise ValueError(f"no captum explainer for {name!r}")


class _OurIntegratedGradients:
    """Our Integrated Gradients behind captum's ``attribute`` signature, for its metrics."""

    def __init__(self, twin: Twin, settings: AttributionSettings):
        self.gradients = gradient_function(twin)
        self.settings = settings

    def attribute(self, inputs, **keywords):
        import torch

        # Like captum's own attribute: a tuple of inputs gives a tuple of attributions.
        is_tuple = isinstance(inputs, tuple)
        result = integrated_gradients(
            self.gradients, (inputs[0] if is_tuple else inputs).detach().numpy(),
            self.settings.baseline, n_steps=self.settings.n_steps,
            method=self.settings.integration_method,
            internal_batch_size=self.settings.internal_batch_size,
        )
        attributions = torch.from_numpy(result.attributions.astype(np.float32))
        return (attributions,) if is_tuple else attributions


def captum_metrics(name: str, twin: Twin, settings: AttributionSettings,
                    attributions: np.ndarray) -> dict:
    """captum's infidelity and sensitivity_max (means over the first n_metric_rows rows)."""
    if twin.torch_module() is None:
        return {"infidelity": None, "sensitivity_max": None,
                "metrics_note": "captum's metrics need a torch forward function"}
    import torch
    from captum.metrics import infidelity, sensitivity_max

    n_rows = min(settings.n_metric_rows, len(settings.X))
    inputs = torch.from_numpy(np.ascontiguousarray(settings.X[:n_rows]))
    model = log_odds_module(twin)
    explainer, keywords = captum_explainer(name, twin, settings)
    generator = torch.Generator().manual_seed(settings.random_state)

    def perturb(perturbed_inputs):
        noise = torch.randn(perturbed_inputs.shape, generator=generator) * INFIDELITY_NOISE
        return noise, perturbed_inputs - noise

    with seeded(settings.random_state):
        infidelities = infidelity(
            model, perturb, inputs,
            torch.from_numpy(np.ascontiguousarray(attributions[:n_rows], dtype=np.float32)),
            n_perturb_samples=N_PERTURB_SAMPLES, normalize=True,
        )
        sensitivities = sensitivity_max(
            explainer.attribute, inputs, perturb_radius=SENSITIVITY_RADIUS,
            n_perturb_samples=N_PERTURB_SAMPLES, **keywords,
        )
    return {"infidelity": float(infidelities.mean()),
            "sensitivity_max": float(sensitivities.mean()), "metric_rows": n_rows}


def log_odds_module(twin: Twin):
    """The torch twin's network followed by ``logit_1 − logit_0``: one output per row.

    The head is a fixed, bias-free ``Linear(2, 1)`` with weights (−1, 1), a layer every captum
    method (DeepLift's rules included) handles, so captum explains the same function as our
    gradients without a ``target``.
    """
    import torch
    from torch import nn

    head = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[-1.0, 1.0]]))
    head.requires_grad_(False)
    # (n, d) -> (n,)
    return nn.Sequential(twin.torch_module(), head, nn.Flatten(start_dim=0)).eval()


def embedded_captum_attributions(twin: Twin, token_ids: np.ndarray, baselines: str,
                                 n_steps: int, method: str, *, padding: int,
                                 embedding_table: np.ndarray) -> np.ndarray:
    """captum's attributions of the torch twin in embedding space, (n, length · dim).

    With the padding baseline: ``LayerIntegratedGradients`` on the embedding module with an
    all-padding baseline sequence — captum interpolates the embedding's output itself. With
    zeros (no sequence of ids embeds to zeros): ``IntegratedGradients`` on the modules after
    the embedding, fed the embedded rows.
    """
    import torch
    from captum.attr import IntegratedGradients, LayerIntegratedGradients

    model = log_odds_module(twin)
    module = twin.torch_module()
    modules = list(module)
    embedding = next(i for i, module in enumerate(modules)
                     if isinstance(module, torch.nn.Embedding))
    ids = torch.from_numpy(np.ascontiguousarray(token_ids))
    if baselines == "padding":
        attributions = LayerIntegratedGradients(model, modules[embedding]).attribute(
            ids, baselines=torch.full_like(ids, padding), n_steps=n_steps, method=method)
    else:
        after = torch.nn.Sequential(module[embedding + 1:], *list(model)[1:]).eval()
        embedded = torch.from_numpy(embedding_table[token_ids])
        attributions = IntegratedGradients(after).attribute(
            embedded, baselines=torch.zeros_like(embedded), n_steps=n_steps, method=method)
    return attributions.detach().numpy().astype(np.float64).reshape(len(token_ids), -1)


def tabular_captum_attributions(twin: Twin, X: np.ndarray, baseline: np.ndarray, *,
                                n_steps: int, method: str) -> np.ndarray:
    """captum's Integrated Gradients of the torch twin's log-odds, (n, d)."""
    import torch
    from captum.attr import IntegratedGradients

    return IntegratedGradients(log_odds_module(twin)).attribute(
        torch.from_numpy(X), baselines=torch.from_numpy(baseline[None]),
        n_steps=n_steps, method=method,
    ).detach().numpy()


def image_captum_attributions(twin: Twin, images: np.ndarray, baseline: np.ndarray,
                              labels: np.ndarray, *, n_steps: int, method: str) -> np.ndarray:
    """captum's Integrated Gradients of the torch twin's log-softmax of each row's class,
    flattened to (n, h · w · c)."""
    import torch
    from captum.attr import IntegratedGradients
    from torch import nn

    module = nn.Sequential(twin.torch_module(), nn.LogSoftmax(dim=1)).eval()
    captum = IntegratedGradients(module).attribute(
        torch.from_numpy(images), baselines=torch.from_numpy(baseline[None]),
        target=torch.from_numpy(labels.astype(np.int64)), n_steps=n_steps,
        method=method).detach().numpy()
    return captum.reshape(len(images), -1)


def shap_gradient_model(twin: Twin, background: np.ndarray, X: np.ndarray):
    """``(model, background, X)`` for shap's GradientExplainer: the torch module and tensors
    for a twin with one, else the twin's own model and the numpy arrays."""
    module = twin.torch_module()
    if module is None:
        return twin.model_, background, X
    import torch

    return (module.eval(), torch.from_numpy(background),
            torch.from_numpy(np.ascontiguousarray(X)))
