"""Adversarial debiasing (Zhang, Lemoine & Mitchell, "Mitigating Unwanted Biases with
Adversarial Learning", AIES 2018) for a twin of any framework.

An adversary tries to tell each row's group from the predictor's output — its logit margin
``s = z₁ − z₀`` alone for demographic parity, ``[s, s·y, s·(1 − y)]`` for equalized odds
(the label lets it look inside each class, as the paper's adversary does). The predictor (the
audited twin) is trained against it: with ``g_P`` the gradient of its own loss and ``g_A``
the gradient of the adversary's loss, both with respect to the predictor's parameters, the
predictor steps along

    g = g_P − proj_{g_A} g_P − α · g_A,    proj_h g = (g·h / h·h) · h

(the paper's update: the projection removes the part of the step that would help the
adversary, and −α·g_A moves against it), taken by the twin's own Adam (torch's rule in both
frameworks). The adversary is a softmax regression over the groups, trained by numpy Adam
with the same rule on its cross-entropy.

Only two things come from the framework: ``g_P`` (:meth:`Twin.loss_gradients`) and the
vector–Jacobian product that carries the adversary's ``∂L_A/∂z`` into the network
(:meth:`Twin.output_gradients`), plus the optimizer step (:meth:`Twin.apply_gradients`).
The adversary's initial weights are drawn in numpy from the twin's seed and its arithmetic
is numpy's, and the batches are the shared schedule's, so two twins of one seed train
against the same adversary and the twin proof applies: :func:`adversarial_proof`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from twinaudit.frameworks import Twin, twin_class
from twinaudit.frameworks.schedule import Schedule, batch_order
from twinaudit.frameworks.training import TrainingData
from twinaudit.nets import Network

#: The float64 agreement the proof asks of two adversarially trained twins (as the plain
#: proof's: identical settings agree to ~1e-12; a real difference is orders larger).
EXACT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class AdversarialSettings:
    """How the predictor and its adversary train (``[mitigation] adversary_*``)."""

    #: "demographic_parity" (the adversary sees the margin) or "equalized_odds" (and the
    #: label).
    constraints: str = "demographic_parity"
    #: α: how hard the predictor pushes against the adversary.
    alpha: float = 1.0
    #: The paper's projection of the predictor's gradient; off only to show what it does
    #: (the proof's mutation test turns it off on one side).
    project: bool = True


class Adversary:
    """A softmax regression from the predictor's output to each row's group, with its own
    Adam (torch's rule), in float64 numpy."""

    def __init__(self, n_groups: int, settings: AdversarialSettings, schedule: Schedule,
                 seed: int):
        self.settings, self.schedule = settings, schedule
        n_inputs = 1 if settings.constraints == "demographic_parity" else 3
        # Glorot-uniform, from a generator of its own (seeded by the twin's seed), so the
        # predictor's initial weights are those of the plain twin of the same seed.
        limit = np.sqrt(6.0 / (n_inputs + n_groups))
        rng = np.random.default_rng([seed, 2018])
        self.weights = {"kernel": rng.uniform(-limit, limit, (n_inputs, n_groups)),
                        "bias": np.zeros(n_groups)}
        self._moments = {name: (np.zeros_like(w), np.zeros_like(w))
                         for name, w in self.weights.items()}
        self._steps = 0

    def inputs(self, margin: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What the adversary sees of each row, and its derivative in the margin."""
        if self.settings.constraints == "demographic_parity":
            return margin[:, None], np.ones((len(margin), 1))
        label = y.astype(np.float64)
        slopes = np.stack([np.ones_like(label), label, 1 - label], axis=1)
        return margin[:, None] * slopes, slopes

    def step(self, margin: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Score the batch, take one Adam step on the adversary's mean cross-entropy, and
        return ``∂L_A/∂margin`` per row (at the weights before the step)."""
        inputs, slopes = self.inputs(margin, y)
        logits = inputs @ self.weights["kernel"] + self.weights["bias"]
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        residual = probabilities
        residual[np.arange(len(groups)), groups] -= 1.0
        residual /= len(groups)                       # ∂(mean cross-entropy)/∂logits
        to_margin = (residual @ self.weights["kernel"].T * slopes).sum(axis=1)
        self._adam({"kernel": inputs.T @ residual, "bias": residual.sum(axis=0)})
        return to_margin

    def _adam(self, gradients: dict[str, np.ndarray]) -> None:
        schedule = self.schedule
        self._steps += 1
        correction_1 = 1 - schedule.beta_1 ** self._steps
        correction_2 = 1 - schedule.beta_2 ** self._steps
        for name, gradient in gradients.items():
            m, v = self._moments[name]
            m += (gradient - m) * (1 - schedule.beta_1)
            v += (gradient * gradient - v) * (1 - schedule.beta_2)
            denominator = np.sqrt(v) / np.sqrt(correction_2) + schedule.epsilon
            self.weights[name] -= schedule.learning_rate / correction_1 * m / denominator


def debiased_gradients(predictor: dict[str, np.ndarray], adversary: dict[str, np.ndarray], *,
                       alpha: float, project: bool) -> dict[str, np.ndarray]:
    """``g_P − proj_{g_A} g_P − α·g_A`` over the whole parameter vector (every layer's
    gradients together, as the paper's θ), in float64, each array back in its own dtype."""
    names = list(predictor)
    g_p = np.concatenate([predictor[name].astype(np.float64).ravel() for name in names])
    g_a = np.concatenate([adversary[name].astype(np.float64).ravel() for name in names])
    combined = g_p - alpha * g_a
    norm = float(g_a @ g_a)
    if project and norm > 0:
        combined -= (g_p @ g_a) / norm * g_a
    out, start = {}, 0
    for name in names:
        size = predictor[name].size
        out[name] = combined[start:start + size].reshape(predictor[name].shape).astype(
            predictor[name].dtype)
        start += size
    return out


def adversarial_step(twin: Twin, adversary: Adversary, X: np.ndarray, y: np.ndarray,
                     groups: np.ndarray, weights: np.ndarray | None) -> None:
    """One step of both players on one batch (see the module's docstring)."""
    predictor, logits = twin.loss_gradients_and_output(X, y, weights)
    logits = logits.astype(np.float64)
    to_margin = adversary.step(logits[:, 1] - logits[:, 0], y, groups)
    # The margin is z₁ − z₀: its gradient in the logits is (−1, +1) times ∂L_A/∂margin.
    upstream = np.stack([-to_margin, to_margin], axis=1)
    against = twin.output_gradients(X, upstream)
    twin.apply_gradients(debiased_gradients(predictor, against,
                                            alpha=adversary.settings.alpha,
                                            project=adversary.settings.project))


def fit_adversarial(twin: Twin, X: np.ndarray, y: np.ndarray, groups: np.ndarray,
                    settings: AdversarialSettings, *, sample_weight: np.ndarray | None = None,
                    validation: tuple[np.ndarray, np.ndarray] | None = None) -> Twin:
    """Train ``twin`` (unfitted: network, schedule and seed set) against an adversary of
    ``groups`` (integer codes per row), with the shared schedule's batches and stopping."""
    n_groups = int(np.max(groups)) + 1
    adversary = Adversary(n_groups, settings, twin.schedule or Schedule(), twin.random_state)
    groups = np.asarray(groups, dtype=np.intp)

    def step(X_batch, y_batch, weights, rows):
        adversarial_step(twin, adversary, X_batch, y_batch, groups[rows], weights)

    twin.fit(X, y, sample_weight, validation=validation, step=step)
    twin.history_["adversary"] = {name: value.tolist()
                                  for name, value in adversary.weights.items()}
    return twin


def train_adversarial_twin(framework: str, network: Network, schedule: Schedule, seed: int,
                           threads: int, data: TrainingData, groups: np.ndarray,
                           settings: AdversarialSettings) -> Twin:
    """The engine task: the ``framework`` twin of ``seed`` trained against its adversary."""
    cls = twin_class(framework)
    with cls.thread_limit(threads):
        return fit_adversarial(cls(network, schedule, random_state=seed), data.X, data.y,
                               groups, settings, validation=(data.X_validation,
                                                             data.y_validation))


def adversarial_proof(network: Network, schedule: Schedule, X: np.ndarray, y: np.ndarray,
                      groups: np.ndarray, settings: AdversarialSettings,
                      frameworks: tuple[str, str], *, seed: int = 0, steps: int = 5,
                      mutate_second: bool = False) -> dict[str, Any]:
    """The twin proof of adversarial training: both frameworks' float64 twins of ``seed``,
    each against its own adversary from the same draw, take ``steps`` adversarial steps on
    the schedule's first batches; their weights (predictor and adversary) must agree to
    :data:`EXACT_TOLERANCE`.

    ``mutate_second`` drops the projection on the second framework's side: the test that
    shows this proof can fail.
    """
    groups = np.asarray(groups, dtype=np.intp)
    rows = np.concatenate(batch_order(seed, 0, len(y), schedule.batch_size))
    players = []
    for index, framework in enumerate(frameworks):
        twin = twin_class(framework)(network, schedule, random_state=seed,
                                     precision="float64").initialize()
        own = replace(settings, project=False) if mutate_second and index == 1 else settings
        adversary = Adversary(int(groups.max()) + 1, own, schedule, seed)
        for start in range(0, steps * schedule.batch_size, schedule.batch_size):
            batch = rows[start:start + schedule.batch_size]
            if len(batch):
                adversarial_step(twin, adversary, X[batch], y[batch], groups[batch], None)
        players.append((twin.get_weights(), adversary.weights))
    (first, first_adversary), (second, second_adversary) = players
    difference = max(
        max(float(np.abs(first[name] - second[name]).max()) for name in first),
        max(float(np.abs(first_adversary[name] - second_adversary[name]).max())
            for name in first_adversary))
    passed = difference <= EXACT_TOLERANCE
    return {"passed": passed, "max_difference": difference, "tolerance": EXACT_TOLERANCE,
            "steps": steps, "precision": "float64",
            "text": (f"{'PASS' if passed else 'FAIL'}: after {steps} adversarial steps in "
                     f"float64 the twins' and their adversaries' weights agree within "
                     f"{difference:.2g} (tolerance {EXACT_TOLERANCE:g})")}
