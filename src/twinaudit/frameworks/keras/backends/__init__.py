"""The Keras twin's backend seam: the primitives Keras 3 has no backend-neutral call for.

Keras runs one model on TensorFlow, JAX or PyTorch, chosen once per process
(``KERAS_BACKEND``); what differs is how a gradient is taken. Each backend module
(``tensorflow.py``, ``jax.py``) supplies the same functions, each building a callable once
for a twin, which the twin keeps:

- ``activation(name)`` — what a Keras layer gets for an activation name (a float64-exact
  tanh where Keras' loses float64);
- ``reconstruction_loss(precision)`` — the autoencoder's mean squared error;
- ``train_step(twin, weighted)`` — Keras' own training step;
- ``loss_gradients(twin, X, y, weights)`` — the training loss's gradients, not compiled (the
  parity proof compares them);
- ``loss_gradients_and_output(twin, weighted)``, ``output_gradients(twin)`` (the
  vector–Jacobian product of the output), ``apply_gradients(twin)`` (the optimizer's step) —
  for adversarial debiasing;
- ``clipped_gradient_sum(twin)`` — DP-SGD's clipped per-row sum;
- ``raw_gradients(twin, row_shape, ...)`` — input gradients for attribution.

Gradients travel as lists in the order of the twin's trainable variables.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from twinaudit.vocabulary import KERAS_BACKENDS as BACKENDS
from twinaudit.vocabulary import UNSUPPORTED_KERAS_BACKENDS

#: The distributions the Keras twin runs on, per backend (results.json records their versions).
PACKAGES: dict[str, tuple[str, ...]] = {"tensorflow": ("keras", "tensorflow-cpu"),
                                        "jax": ("keras", "jax", "jaxlib")}


def backend_module() -> ModuleType:
    """The primitives of the backend this process's Keras runs on."""
    import keras

    name = keras.backend.backend()
    if name not in BACKENDS:
        why = UNSUPPORTED_KERAS_BACKENDS.get(name)
        raise ValueError(f"the Keras twin runs on {', '.join(BACKENDS)}; this Keras runs on "
                         f"{name!r} ({why + '; ' if why else ''}set KERAS_BACKEND before "
                         "twinaudit imports keras)")
    return importlib.import_module(f"twinaudit.frameworks.keras.backends.{name}")
