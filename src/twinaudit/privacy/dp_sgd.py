"""DP-SGD (Abadi et al., "Deep Learning with Differential Privacy", CCS 2016) for a twin of
any framework, with the noise drawn once in numpy so that two twins of one seed stay
identical.

Each step samples every training row independently with probability ``q = B / N`` (Poisson
sampling, which the accountant's :class:`PoissonSampledDpEvent` assumes: batches have a random
size around ``B``), clips each row's loss gradient to L2 norm ``C`` (``c_i = min(1,
C / (‖g_i‖ + 1e-6))``, Opacus' rule), adds Gaussian noise of standard deviation ``σ·C`` to
the sum and divides by the *expected* batch size ``B``::

    g̃ = (Σ_i c_i g_i + N(0, σ²C²·I)) / B

then takes the twin's own Adam step (torch's rule in every framework) on ``g̃``: the update of
Opacus' ``DPOptimizer`` wrapped around ``torch.optim.Adam`` (a test holds ours to it).

Only the clipped sum comes from the framework (:meth:`Twin.clipped_gradient_sum`) and the
step (:meth:`Twin.apply_gradients`); the sampling, the noise (a generator seeded by the twin's
seed, one normal draw per parameter in the canonical names' order) and the scaling are this
module's, so the twin proof applies: :func:`dp_proof`. ``σ`` comes from the accountant
(:mod:`twinaudit.privacy.accounting`), never from a formula of ours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from twinaudit.frameworks import Twin, twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.frameworks.training import TrainingData
from twinaudit.nets import Network

#: As the other float64 proofs: identical settings agree to ~1e-14; a real difference is
#: orders larger.
EXACT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class DPSettings:
    """One DP-SGD training: clipping norm ``C``, noise multiplier ``σ`` and expected batch
    size ``B`` (the schedule's ``batch_size``)."""

    clipping_norm: float
    noise_multiplier: float


def steps_per_epoch(n_rows: int, batch_size: int) -> int:
    """An epoch is ``N / B`` steps (rounded up), each a Poisson sample of expected size B."""
    return -(-n_rows // batch_size)


def sampling_rate(n_rows: int, batch_size: int) -> float:
    return min(1.0, batch_size / n_rows)


def poisson_batches(seed: int, epoch: int, n_rows: int, batch_size: int) -> list[np.ndarray]:
    """The rows of each step of one epoch: every row in each step with probability
    ``batch_size / n_rows``, independently, from a generator seeded by (seed, epoch)."""
    rng = np.random.default_rng([seed, epoch, 0xD9])
    rate = sampling_rate(n_rows, batch_size)
    return [np.flatnonzero(rng.random(n_rows) < rate)
            for _ in range(steps_per_epoch(n_rows, batch_size))]


class DPStep:
    """The step function of one DP twin's training (``Twin.fit(step=...)``): it owns the
    noise generator, so the noise of step ``t`` is the same draw in every framework."""

    def __init__(self, twin: Twin, settings: DPSettings, expected_batch_size: int, seed: int):
        self.twin, self.settings, self.expected = twin, settings, expected_batch_size
        self.rng = np.random.default_rng([seed, 2016])
        self.shapes: dict[str, tuple[int, ...]] | None = None  # read at the first step
        self.steps = 0

    def __call__(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None,
                 rows: np.ndarray) -> None:
        self.twin.apply_gradients(self.noisy_gradients(X, y))

    def noisy_gradients(self, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """``(Σ c_i g_i + N(0, σ²C²)) / B`` in float64, each array in the twin's precision."""
        settings = self.settings
        if self.shapes is None:  # the canonical names' order: the same in every framework
            self.shapes = {name: value.shape
                           for name, value in sorted(self.twin.get_weights().items())}
        # An empty Poisson sample still takes a step: the noise alone (as Opacus does).
        summed = self.twin.clipped_gradient_sum(X, y, settings.clipping_norm)[0] if len(y) \
            else {name: np.zeros(shape) for name, shape in self.shapes.items()}
        scale = settings.noise_multiplier * settings.clipping_norm
        self.steps += 1
        dtype = np.dtype(self.twin.precision)
        return {name: ((summed[name].astype(np.float64)
                        + scale * self.rng.standard_normal(shape)) / self.expected).astype(dtype)
                for name, shape in self.shapes.items()}


def fit_dp(twin: Twin, X: np.ndarray, y: np.ndarray, settings: DPSettings, *,
           validation: tuple[np.ndarray, np.ndarray] | None = None) -> Twin:
    """Train ``twin`` (unfitted: network, schedule and seed set) with DP-SGD for every epoch
    of its schedule: no early stopping (the accountant counts every step taken, and the choice
    of epoch would read the validation split)."""
    schedule = dataclasses.replace(twin.schedule or Schedule(), early_stopping=False)
    twin.schedule = schedule
    step = DPStep(twin, settings, schedule.batch_size, twin.random_state)
    twin.fit(X, y, validation=validation, step=step, batches=poisson_batches)
    twin.history_["dp_steps"] = step.steps
    return twin


def train_dp_twin(framework: str, network: Network, schedule: Schedule, seed: int,
                  threads: int, data: TrainingData, settings: DPSettings) -> Twin:
    """The engine task: the ``framework`` twin of ``seed`` trained with DP-SGD."""
    cls = twin_class(framework)
    with cls.thread_limit(threads):
        return fit_dp(cls(network, schedule, random_state=seed), data.X, data.y, settings,
                      validation=(data.X_validation, data.y_validation))


def dp_proof(network: Network, schedule: Schedule, X: np.ndarray, y: np.ndarray,
             settings: DPSettings, frameworks: tuple[str, str], *, seed: int = 0,
             steps: int = 5, mutate_second: bool = False) -> dict[str, Any]:
    """The twin proof of DP-SGD: both frameworks' float64 twins of ``seed`` take ``steps``
    DP-SGD steps on the same Poisson samples with the same noise; their weights must agree to
    :data:`EXACT_TOLERANCE`.

    ``mutate_second`` clips the second framework's rows at half the norm: the test that shows
    this proof can fail.
    """
    batches = poisson_batches(seed, 0, len(y), schedule.batch_size)[:steps]
    weights = []
    for index, framework in enumerate(frameworks):
        twin = twin_class(framework)(network, schedule, random_state=seed,
                                     precision="float64").initialize()
        own = dataclasses.replace(settings, clipping_norm=settings.clipping_norm / 2) \
            if mutate_second and index == 1 else settings
        step = DPStep(twin, own, schedule.batch_size, seed)
        for rows in batches:
            step(X[rows], y[rows], None, rows)
        weights.append(twin.get_weights())
    first, second = weights
    difference = max(float(np.abs(first[name] - second[name]).max()) for name in first)
    passed = difference <= EXACT_TOLERANCE
    return {"passed": passed, "max_difference": difference, "tolerance": EXACT_TOLERANCE,
            "steps": len(batches), "precision": "float64",
            "text": (f"{'PASS' if passed else 'FAIL'}: after {len(batches)} DP-SGD steps in "
                     f"float64 (the same Poisson samples and noise) the twins' weights agree "
                     f"within {difference:.2g} (tolerance {EXACT_TOLERANCE:g})")}
