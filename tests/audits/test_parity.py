"""Parity: twins of every framework in the registry agree with the reference framework (the
first) — at step 0, after one Adam step, in their gradients, their row weighting and their L2
penalty — on hand-made batches and on each reference network's real data.

Parity is measured on real data (small subsets of the shipped audits' data sets): step-0
outputs within the tolerance of the parity audit, and the parameters after one Adam step
within float32 rounding. Where float32 does not allow 1e-6 the bound is the measured one,
with the reason.
"""

import numpy as np

from twinaudit.audits.parity import max_relative_difference
from twinaudit.families import FAMILIES
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule, batch_order, batch_weights
from twinaudit.nets import MLPNetwork, initial_weights
from twinaudit.vocabulary import FRAMEWORKS

from helpers import GRADIENT_SCHEDULE, assert_same_update, gradient_like_update

REFERENCE, OTHERS = FRAMEWORKS[0], FRAMEWORKS[1:]

# Bound on the one-step relative parameter difference, per network and tensor: 1e-6 unless
# float32 does not allow it. Adam's first step is lr · g / (|g| + ε): where a gradient
# entry cancels down to a few ε (1e-8) — a sum over many tokens, time steps or rows — the
# step magnifies the frameworks' different summation orders. The gradients themselves agree
# (test_gradients_agree); only these tensors' Adam steps exceed 1e-6:
# - the embedding (measured up to 3.2e-5) and the LSTM kernels (up to 4.0e-6; the entry was
#   a gradient of about 2ε);
# - the autoencoder's first kernel (measured 1.04e-6 once, full data, seed 2).
ONE_STEP_BOUND = {"sentiment": {"embedding_0.embeddings": 1e-4, "lstm_0.kernel": 1e-5,
                                "lstm_0.recurrent_kernel": 1e-5},
                  "autoencoder": {"dense_0.kernel": 3e-6}}
# With a huge epsilon (and a matching learning rate) Adam's first step is −g·1e3/(|g| + 1e3):
# the update is the gradient itself, so this compares the gradients. It is read back as
# (weights after − weights before) in float32, whose rounding (an ulp of the weights, ~1e-8,
# against gradients of ~1e-3) puts the floor of this comparison near 1e-5.
GRADIENT_BOUND = 2e-5
BATCHED_GRADIENT_SCHEDULE = Schedule(batch_size=64, learning_rate=1e3, epsilon=1e3)


# -- hand-made batches --------------------------------------------------------------------------

def test_weighted_updates_agree_across_frameworks(batch):
    X, y = batch
    weights = np.linspace(0.2, 3.0, 12)
    reference = gradient_like_update(REFERENCE, X, y, weights)
    for other in OTHERS:
        assert_same_update(reference, gradient_like_update(other, X, y, weights), rtol=1e-4)


def test_l2_regularisation_is_the_same_in_both_frameworks(batch):
    # Keras adds l2 · sum(kernel²) to the loss; the torch twin must add exactly that.
    X, y = batch
    network = MLPNetwork(n_inputs=X.shape[1], hidden=(8,), l2=0.05)
    updates = {}
    for framework in FRAMEWORKS:
        twin = twin_class(framework)(network, GRADIENT_SCHEDULE, random_state=3).initialize()
        before = twin.get_weights()
        twin.train_step(X, y)
        updates[framework] = {k: v - before[k] for k, v in twin.get_weights().items()}
    for other in OTHERS:
        assert_same_update(updates[REFERENCE], updates[other], rtol=1e-4)
    plain = gradient_like_update(REFERENCE, X, y, np.ones(len(y)))
    # The penalty changes kernels' updates (and not biases'), so the check above has teeth.
    assert np.abs(updates[REFERENCE]["dense_0.kernel"] - plain["dense_0.kernel"]).max() > 1e-3
    np.testing.assert_allclose(updates[REFERENCE]["dense_0.bias"], plain["dense_0.bias"],
                               rtol=1e-5, atol=1e-7)


# -- real data ----------------------------------------------------------------------------------

def test_step0_and_one_step_parity_on_adult(small_dataset):
    network = MLPNetwork(n_inputs=small_dataset.train.X.shape[1], hidden=(64, 32))
    schedule = Schedule()
    X, y = small_dataset.train.X, small_dataset.train.y
    twins = [twin_class(fw)(network, schedule, random_state=5).initialize() for fw in FRAMEWORKS]
    logits = [twin.decision_function(small_dataset.test.X) for twin in twins]
    for other in logits[1:]:
        assert np.abs(logits[0] - other).max() <= 1e-5
    sample_weight = np.random.default_rng(1).uniform(0.2, 3.0, len(y)).astype(np.float32)
    batches = batch_order(5, 0, len(y), schedule.batch_size)
    for step, rows in enumerate(batches[:5]):
        for twin in twins:
            twin.train_step(X[rows], y[rows], batch_weights(sample_weight[rows]))
        for other in twins[1:]:
            difference = max(max_relative_difference(twins[0].get_weights(),
                                                      other.get_weights()).values())
            # One step: within 1e-6; a few more steps stay within float32 accumulation.
            assert difference <= (1e-6 if step == 0 else 1e-5), (step, difference)


def test_step0_and_one_step_parity(case):
    name, network, dataset = case
    schedule = Schedule(batch_size=64)
    X, y = dataset.train.X, dataset.train.y
    twins = [twin_class(fw)(network, schedule, random_state=3).initialize() for fw in FRAMEWORKS]
    outputs = [twin.forward(dataset.test.X) for twin in twins]
    for other in outputs[1:]:
        assert np.abs(outputs[0] - other).max() <= FAMILIES[network.kind].step0_tolerance
    rows = batch_order(3, 0, len(y), schedule.batch_size)[0]
    for twin in twins:
        twin.train_step(X[rows], y[rows])
    bounds = ONE_STEP_BOUND.get(name, {})
    for other in twins[1:]:
        differences = max_relative_difference(twins[0].get_weights(), other.get_weights())
        for tensor, difference in differences.items():
            assert difference <= bounds.get(tensor, 1e-6), (tensor, difference)


def test_gradients_agree(case):
    _, network, dataset = case
    X, y = dataset.train.X, dataset.train.y
    rows = batch_order(3, 0, len(y), BATCHED_GRADIENT_SCHEDULE.batch_size)[0]
    before = initial_weights(network, 3)
    updates = []
    for framework in FRAMEWORKS:
        twin = twin_class(framework)(network, BATCHED_GRADIENT_SCHEDULE,
                                     random_state=3).initialize()
        twin.train_step(X[rows], y[rows])
        updates.append({k: v - before[k] for k, v in twin.get_weights().items()})
    for other in updates[1:]:
        for tensor, difference in max_relative_difference(updates[0], other).items():
            assert difference <= GRADIENT_BOUND, (tensor, difference)
