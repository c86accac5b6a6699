"""One small gradient function per framework: the only framework-specific part of attribution.

Each builder takes a twin and returns a plain callable on numpy arrays,
``X (n, d) float32 -> (f(X) (n,), dF/dX (n, d))``, where ``f`` is the **log-odds of class 1**,
``log(p₁ / p₀) = z₁ − z₀`` for the twin's two logits ``z``. Why not the raw logit ``z₁``: a
softmax over two logits is unchanged when both move together, so ``z₁`` alone is not
identified — two seeds of the same network can explain it with opposite signs while making
identical predictions. The log-odds is what the prediction depends on. (On the torch model this
is captum with ``forward_func = lambda x: model(x)[:, 1] - model(x)[:, 0]``.)

Everything else (interpolation, quadrature, bookkeeping) is numpy and is written once, in
:mod:`twinaudit.attribution.integrated_gradients`.

The framework is chosen by ``twin.framework``, never by looking at the model object, and each
framework is imported only inside its own builder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from twinaudit.twins.base import Twin

#: ``X (n, d) float32 -> (f(X) (n,), dF/dX (n, d))``, both float32.
GradientFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: The output that attributions explain, in words (recorded in the results).
TARGET = "log-odds of class 1: logit_1 - logit_0 = log(p_1 / p_0)"


def gradient_function(twin: Twin) -> GradientFunction:
    """The log-odds of class 1 and its input gradient for a twin, as a numpy callable.

    Parameters
    ----------
    twin : Twin
        A built (initialised or fitted) twin; its ``framework`` picks the implementation.

    Returns
    -------
    callable
        ``X (n, d) float32 -> (f(X) (n,), dF/dX (n, d))``, evaluated in inference mode.
    """
    builders = {"torch": _torch_gradient_function, "keras": _keras_gradient_function}
    if twin.framework not in builders:
        raise ValueError(f"no gradient function for framework {twin.framework!r} "
                         f"(expected one of {sorted(builders)})")
    if not hasattr(twin, "model_"):
        raise ValueError("the twin has no model yet: call initialize() or fit() first")
    return builders[twin.framework](twin)


def _torch_gradient_function(twin: Twin) -> GradientFunction:
    import torch

    model = twin.model_
    model.eval()  # dropout off: attributions explain the deterministic network

    def gradients(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # from_numpy shares memory with the caller's points: no copy on the way in or out.
        inputs = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).requires_grad_()
        # enable_grad: callers such as captum's sensitivity_max run explanations under no_grad.
        with torch.enable_grad():
            logits = model(inputs)                                            # (n, 2)
            outputs = logits[:, 1] - logits[:, 0]                             # (n,)
            # Rows are independent, so the gradient of the sum is every row's own gradient:
            # one backward pass over the whole batch. Only the input gradient is asked for,
            # so autograd skips the parameters' gradients.
            (gradient,) = torch.autograd.grad(outputs.sum(), inputs)          # (n, d)
        return outputs.detach().numpy(), gradient.numpy()

    return gradients


def _keras_gradient_function(twin: Twin) -> GradientFunction:
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "the Keras twin's gradients use tf.GradientTape, which needs Keras' tensorflow "
            f"backend; this Keras runs on {keras.backend.backend()!r} "
            "(set KERAS_BACKEND=tensorflow before importing keras)"
        )
    import tensorflow as tf

    model = twin.model_

    # A relaxed (None) row dimension traces the graph once for every batch size; without it
    # each new batch length (the last, shorter batch) would retrace.
    @tf.function(input_signature=[tf.TensorSpec([None, twin.network.n_inputs], tf.float32)],
                 reduce_retracing=True)
    def traced(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            logits = model(inputs, training=False)                            # (n, 2)
            outputs = logits[:, 1] - logits[:, 0]                             # (n,)
        return outputs, tape.gradient(outputs, inputs)                        # (n,), (n, d)

    def gradients(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outputs, gradient = traced(tf.convert_to_tensor(np.asarray(X, dtype=np.float32)))
        return outputs.numpy(), gradient.numpy()

    return gradients
