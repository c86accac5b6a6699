"""Run in a subprocess with ``KERAS_BACKEND`` set (Keras fixes its backend per process): every
primitive of the Keras twin against the torch twin's, in float64, printed as one JSON line of
maximum differences. Not a test module: ``test_backends.py`` runs it per backend."""

import json

import keras
import numpy as np

from twinaudit.fairness.adversarial import AdversarialSettings, adversarial_proof
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets.autoencoder import AutoencoderNetwork
from twinaudit.nets.mlp import MLPNetwork
from twinaudit.privacy.dp_sgd import DPSettings, dp_proof
from twinaudit.vocabulary import FRAMEWORKS


def largest(first: dict, second: dict) -> float:
    return max(float(np.abs(first[name] - second[name]).max()) for name in first)


def pair(network, seed=0):
    return {framework: twin_class(framework)(network, Schedule(), random_state=seed,
                                             precision="float64").initialize()
            for framework in FRAMEWORKS}


rng = np.random.default_rng(0)
X, y = rng.normal(size=(64, 6)), rng.integers(0, 2, 64)
weights, upstream = rng.uniform(0.5, 1.5, 64), rng.normal(size=(64, 2))
out = {"backend": keras.backend.backend()}
twins = pair(MLPNetwork(6, (8, 4), l2=0.01))
out["loss_gradients"] = largest(*(t.loss_gradients(X, y, weights) for t in twins.values()))
both = [t.loss_gradients_and_output(X, y, weights) for t in twins.values()]
out["loss_gradients_and_output"] = max(largest(both[0][0], both[1][0]),
                                       float(np.abs(both[0][1] - both[1][1]).max()))
out["output_gradients"] = largest(*(t.output_gradients(X, upstream) for t in twins.values()))
for network, name in ((MLPNetwork(6, (8, 4)), "mlp"), (AutoencoderNetwork(6, (3,)), "ae")):
    twins = pair(network, seed=1)
    out[f"loss_gradients_{name}"] = largest(*(t.loss_gradients(X, y, weights)
                                              for t in twins.values()))
    sums = [t.clipped_gradient_sum(X, y, 0.5) for t in twins.values()]
    out[f"clipped_gradient_sum_{name}"] = max(largest(sums[0][0], sums[1][0]),
                                              float(np.abs(sums[0][1] - sums[1][1]).max()))
    for twin, (summed, _) in zip(twins.values(), sums, strict=True):
        twin.apply_gradients(summed)
    for _ in range(5):
        for twin in twins.values():
            twin.train_step(X, y, weights)
    out[f"train_steps_{name}"] = largest(*(t.get_weights() for t in twins.values()))
network, schedule = MLPNetwork(6, (8, 4)), Schedule(batch_size=16)
out["dp_proof"] = dp_proof(network, schedule, X, y, DPSettings(1.0, 1.1),
                           FRAMEWORKS)["max_difference"]
out["adversarial_proof"] = adversarial_proof(network, schedule, X, y, rng.integers(0, 2, 64),
                                             AdversarialSettings(),
                                             FRAMEWORKS)["max_difference"]
# The proofs' teeth on this backend too: one side clipping at half the norm, or dropping the
# adversary's projection.
out["mutated_dp_proof"] = dp_proof(network, schedule, X, y, DPSettings(1.0, 1.1),
                                   FRAMEWORKS, mutate_second=True)["max_difference"]
out["mutated_adversarial_proof"] = adversarial_proof(
    network, schedule, X, y, rng.integers(0, 2, 64), AdversarialSettings(), FRAMEWORKS,
    mutate_second=True)["max_difference"]
float32 = {framework: twin_class(framework)(network, random_state=0).initialize()
           for framework in FRAMEWORKS}
for per_class in (False, True):
    explained = [t.raw_gradients((6,), per_class=per_class, from_embeddings=False)(
        X.astype(np.float32), 1 if per_class else None) for t in float32.values()]
    out[f"raw_gradients_{per_class}"] = max(
        float(np.abs(explained[0][0] - explained[1][0]).max()),
        float(np.abs(explained[0][1] - explained[1][1]).max()))
print(json.dumps(out))
