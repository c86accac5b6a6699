"""The parity section: the twins' row weighting and L2 penalty on hand-made batches, and the
whole audit — proof, chaos envelope, outcome verdict — on fitted twins.

The arithmetic proof's own tests (every shipped network, every mutation) are in
test_proof.py; the envelope's in test_chaos.py.
"""

import numpy as np
import pytest

from twinaudit.audits.parity import parity_audit
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import MLPNetwork
from twinaudit.spec import ParitySection
from twinaudit.vocabulary import FRAMEWORKS

from helpers import GRADIENT_SCHEDULE, assert_same_update, gradient_like_update

REFERENCE, OTHERS = FRAMEWORKS[0], FRAMEWORKS[1:]


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


# -- the whole section ------------------------------------------------------------------------

SECTION_SCHEDULE = Schedule(epochs=3, batch_size=64)


def fitted(network, X, y, seeds=(0, 1, 2), *, schedule=SECTION_SCHEDULE):
    validation = (X[:100], y[:100])
    return {(fw, seed): twin_class(fw)(network, schedule, random_state=seed).fit(
        X[100:], y[100:], validation=validation) for seed in seeds for fw in FRAMEWORKS[:2]}


@pytest.mark.slow
def test_the_parity_section_passes_for_identically_trained_twins(small_dataset):
    X, y = small_dataset.train.X[:600], small_dataset.train.y[:600]
    network = MLPNetwork(n_inputs=X.shape[1], hidden=(16,))
    twins = fitted(network, X, y)
    section = parity_audit(twins, network=network, schedule=SECTION_SCHEDULE,
                           train=(X[100:], y[100:], None), validation=(X[:100], y[:100]),
                           test=(small_dataset.test.X, small_dataset.test.y),
                           frameworks=tuple(FRAMEWORKS[:2]),
                           settings=ParitySection(proof_seeds=3))
    assert section["verdict"]["passed"], section["verdict"]["text"]
    assert [row["proof"]["seed"] for row in section["per_seed"]] == [0, 1, 2]
    assert section["verdict"]["text"].startswith("PASS: identical: float64 agreement within")
    assert section["proof"]["passed"] and section["chaos"]["inside"]
    assert [row["seed"] for row in section["per_seed"]] == [0, 1, 2]
    assert section["accuracy"]["verdict"] in ("equivalent", "undecided")
    assert len(section["chaos"]["epochs"]) == 3


@pytest.mark.slow
def test_twins_trained_differently_fail_parity_on_their_drift(small_dataset):
    # The proof replays the schedule it is given, so it passes; the fitted twins were not
    # trained with it (the other framework's learning rate is 3x): the envelope catches it.
    X, y = small_dataset.train.X[:600], small_dataset.train.y[:600]
    network = MLPNetwork(n_inputs=X.shape[1], hidden=(16,))
    schedule = SECTION_SCHEDULE
    twins = fitted(network, X, y, seeds=(0, 1))
    faster = fitted(network, X, y, seeds=(0, 1),
                    schedule=Schedule(epochs=3, batch_size=64, learning_rate=3e-3))
    for key in twins:
        if key[0] == FRAMEWORKS[1]:
            twins[key] = faster[key]
    section = parity_audit(twins, network=network, schedule=schedule,
                           train=(X[100:], y[100:], None), validation=(X[:100], y[:100]),
                           test=(small_dataset.test.X, small_dataset.test.y),
                           frameworks=tuple(FRAMEWORKS[:2]))
    assert section["proof"]["passed"]
    # By default the proof runs on the first seed only: a setting is the same on every seed.
    assert ["proof" in row for row in section["per_seed"]] == [True, False]
    assert not section["chaos"]["inside"] and section["chaos"]["max_ratio"] > 10
    assert not section["verdict"]["passed"]
    assert section["verdict"]["text"].startswith("FAIL: ")
