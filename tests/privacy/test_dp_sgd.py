"""DP-SGD: each framework's clipped sum against a row-by-row loop, our torch step against
Opacus' DPOptimizer (the same clipping, noise and batches), the twin proof of DP-SGD and its
mutation, Poisson sampling's rate, and DP twins of both frameworks trained on COMPAS."""

import copy

import numpy as np
import pytest

from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets.autoencoder import AutoencoderNetwork
from twinaudit.nets.mlp import MLPNetwork
from twinaudit.privacy.dp_sgd import DPSettings, DPStep, dp_proof, fit_dp, poisson_batches
from twinaudit.vocabulary import FRAMEWORKS

from helpers import COMPAS_CSV, compas_arrays

NETWORK = MLPNetwork(n_inputs=6, hidden=(8, 4))
SCHEDULE = Schedule(epochs=2, batch_size=64, learning_rate=0.01, early_stopping=False)


def _rows(n=96, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * 3, rng.integers(0, 2, n)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("network", [NETWORK, AutoencoderNetwork(n_inputs=6, hidden=(3,))],
                         ids=["mlp", "autoencoder"])
def test_the_clipped_sum_is_each_rows_own_gradient_clipped_and_summed(framework, network):
    X, y = _rows()
    twin = twin_class(framework)(network, random_state=1, precision="float64").initialize()
    # The median norm: half the rows are clipped, half kept as they are.
    clipping = float(np.median(twin.clipped_gradient_sum(X, y, 1.0)[1]))
    summed, norms = twin.clipped_gradient_sum(X, y, clipping)
    expected = {name: np.zeros_like(value) for name, value in summed.items()}
    for row in range(len(y)):
        own = twin.loss_gradients(X[row:row + 1], y[row:row + 1])
        norm = np.sqrt(sum(float((g ** 2).sum()) for g in own.values()))
        assert norms[row] == pytest.approx(norm, rel=1e-12)
        for name, gradient in own.items():
            expected[name] += min(1.0, clipping / (norm + 1e-6)) * gradient
    assert (norms > clipping).any() and (norms < clipping).any()  # both branches of the clip
    for name in expected:
        np.testing.assert_allclose(summed[name], expected[name], rtol=1e-11, atol=1e-14)


@pytest.mark.filterwarnings("ignore:Full backward hook:UserWarning")
def test_our_torch_step_equals_opacus_dp_optimizer_on_the_same_batches_and_noise(monkeypatch):
    opacus = pytest.importorskip("opacus")
    import torch
    from opacus.optimizers import optimizer as opacus_optimizer

    from twinaudit.frameworks.torch.layers import set_parameters

    X, y = _rows(n=400)
    settings = DPSettings(clipping_norm=0.7, noise_multiplier=1.3)
    std = settings.noise_multiplier * settings.clipping_norm
    ours = twin_class("torch")(NETWORK, SCHEDULE, random_state=2,
                               precision="float64").initialize()
    theirs = copy.deepcopy(ours.model_)
    module = opacus.GradSampleModule(theirs, loss_reduction="mean")
    adam = torch.optim.Adam(module.parameters(), lr=SCHEDULE.learning_rate,
                            betas=(SCHEDULE.beta_1, SCHEDULE.beta_2), eps=SCHEDULE.epsilon)
    dp = opacus.optimizers.DPOptimizer(adam, noise_multiplier=settings.noise_multiplier,
                                       max_grad_norm=settings.clipping_norm,
                                       expected_batch_size=SCHEDULE.batch_size,
                                       loss_reduction="mean")
    step = DPStep(ours, settings, SCHEDULE.batch_size, seed=2)
    # Opacus draws the noise parameter by parameter in the module's order; it is handed our
    # step's draws (replayed from the same generator), laid out as torch's parameters.
    replay = np.random.default_rng([2, 2016])
    shapes = {name: value.shape for name, value in sorted(ours.get_weights().items())}
    queue = []

    def our_noise(*, std: float, reference, generator=None, secure_mode=False):
        assert std == pytest.approx(settings.noise_multiplier * settings.clipping_norm)
        noise = queue.pop(0)
        assert noise.shape == reference.shape
        return noise

    monkeypatch.setattr(opacus_optimizer, "_generate_noise", our_noise)
    batches = poisson_batches(2, 0, len(y), SCHEDULE.batch_size)[:4]
    for rows in batches:
        canonical = {name: std * replay.standard_normal(shape)
                     for name, shape in shapes.items()}
        scratch = twin_class("torch")(NETWORK, random_state=0, precision="float64").initialize()
        set_parameters(scratch._modules, canonical, gradients=True)
        queue[:] = [p.grad for p in scratch.model_.parameters()]
        dp.zero_grad()
        torch.nn.functional.cross_entropy(module(torch.from_numpy(X[rows])),
                                          torch.from_numpy(y[rows])).backward()
        dp.step()
        assert not queue  # every parameter took its noise
        step(X[rows], y[rows], None, rows)
    after = twin_class("torch")(NETWORK, random_state=0, precision="float64").initialize()
    after.model_.load_state_dict(theirs.state_dict())
    moved = False
    for name, value in ours.get_weights().items():
        np.testing.assert_allclose(value, after.get_weights()[name], rtol=1e-10, atol=1e-13)
        moved |= not np.allclose(value, twin_class("torch")(
            NETWORK, random_state=2, precision="float64").initialize().get_weights()[name])
    assert moved and step.steps == len(batches)


def test_the_dp_twin_proof_passes_and_fails_when_one_side_clips_differently():
    X, y = _rows(n=500)
    settings = DPSettings(clipping_norm=1.0, noise_multiplier=1.1)
    proof = dp_proof(NETWORK, SCHEDULE, X, y, settings, FRAMEWORKS[:2])
    assert proof["passed"] and proof["max_difference"] < 1e-12, proof["text"]
    mutated = dp_proof(NETWORK, SCHEDULE, X, y, settings, FRAMEWORKS[:2],
                       mutate_second=True)
    assert not mutated["passed"] and mutated["max_difference"] > 1e-4, mutated["text"]


def test_poisson_sampling_takes_each_row_at_the_stated_rate_reproducibly():
    batches = poisson_batches(seed=3, epoch=0, n_rows=10_000, batch_size=100)
    assert len(batches) == 100
    sizes = np.array([len(rows) for rows in batches])
    # Binomial(10,000, 0.01) per step: mean 100, sd ~10.
    assert abs(sizes.mean() - 100) < 3 and 5 < sizes.std() < 15
    counts = np.bincount(np.concatenate(batches), minlength=10_000)
    assert abs(counts.mean() - 1.0) < 0.03  # each row in about one step per epoch
    again = poisson_batches(seed=3, epoch=0, n_rows=10_000, batch_size=100)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    assert not np.array_equal(batches[0], poisson_batches(3, 1, 10_000, 100)[0])


def test_noise_is_the_stated_gaussian_over_the_expected_batch_size():
    twin = twin_class("torch")(NETWORK, random_state=0, precision="float64").initialize()
    step = DPStep(twin, DPSettings(clipping_norm=2.0, noise_multiplier=1.5), 50, seed=0)
    noise = np.concatenate([g.ravel() for g in step.noisy_gradients(
        np.empty((0, 6)), np.empty(0, np.int64)).values()])  # an empty sample: noise only
    assert noise.std() == pytest.approx(1.5 * 2.0 / 50, rel=0.25)
    assert abs(noise.mean()) < 3 * noise.std() / np.sqrt(noise.size)


@pytest.mark.slow
@pytest.mark.skipif(not COMPAS_CSV.is_file(), reason="ProPublica's COMPAS file is not here")
def test_dp_twins_of_both_frameworks_agree_and_train_every_epoch_on_compas():
    X, y, _, X_test, y_test, _ = compas_arrays(4000)
    schedule = Schedule(epochs=3, batch_size=128, learning_rate=0.01)  # early stopping on
    settings = DPSettings(clipping_norm=1.0, noise_multiplier=0.8)
    twins = {framework: fit_dp(twin_class(framework)(NETWORK, schedule, random_state=0),
                               X, y, settings, validation=(X_test, y_test))
             for framework in FRAMEWORKS}
    for twin in twins.values():
        assert len(twin.history_["epochs"]) == 3 and twin.schedule.early_stopping is False
        assert twin.history_["dp_steps"] == 3 * -(-len(y) // 128)
        assert twin.score(X_test, y_test) > 0.6  # it learnt through the noise
    agree = (twins["torch"].predict(X_test) == twins["keras"].predict(X_test)).mean()
    assert agree > 0.99
