"""One small gradient function per framework: the only framework-specific part of attribution.

Each builder takes a twin and returns a plain callable on numpy arrays,
``X (n, d) float32 -> (f(X) (n,), dF/dX (n, d))``. What ``f`` is depends on the task:

- a **binary** classifier (tabular, text) explains the **log-odds of class 1**,
  ``log(p₁ / p₀) = z₁ − z₀`` for the twin's two logits ``z``. Why not the raw logit ``z₁``: a
  softmax over two logits is unchanged when both move together, so ``z₁`` alone is not
  identified — two seeds of the same network can explain it with opposite signs while making
  identical predictions. The log-odds is what the prediction depends on. (On the torch model
  this is captum with ``forward_func = lambda x: model(x)[:, 1] - model(x)[:, 0]``.)
- a **multi-class** classifier (the digits CNN) explains the **log-softmax of a target class**,
  ``log p_c = z_c − logsumexp(z)``, for the same reason: adding a constant to every logit
  changes no prediction and no log-softmax, but every raw logit.

Inputs are always flat rows (the quadrature in :mod:`twinaudit.attribution.integrated_gradients`
is written for (n, d)); each gradient function reshapes them to the network's row shape inside
— an image (h, w, c), or, for text, the *embedded* sequence (length, embedding_dim) fed to the
layers after the embedding (token ids are integers and have no gradient).

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
    from twinaudit.nets import Network
    from twinaudit.twins.base import Twin

#: ``X (n, d) float32 -> (f(X) (n,), dF/dX (n, d))``, both float32.
GradientFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
#: ``(X (n, d), target class) -> (f(X) (n,), dF/dX (n, d))``: one traced function for every class.
_RawGradients = Callable[[np.ndarray, "int | None"], tuple[np.ndarray, np.ndarray]]

#: The output that attributions explain, in words (recorded in the results).
TARGET = "log-odds of class 1: logit_1 - logit_0 = log(p_1 / p_0)"
CLASS_TARGET = ("log-softmax of the target class: log p_c = logit_c - logsumexp(logits) "
                "(unchanged when every logit moves together, unlike a raw logit)")


def gradient_function(twin: Twin, *, target: int | None = None,
                      from_embeddings: bool = False) -> GradientFunction:
    """The explained output and its input gradient for a twin, as a numpy callable.

    Parameters
    ----------
    twin : Twin
        A built (initialised or fitted) twin; its ``framework`` picks the implementation.
    target : int, optional
        None: the log-odds of class 1 (binary classifiers). A class index: the log-softmax of
        that class (any number of classes).
    from_embeddings : bool
        Differentiate with respect to the output of the network's embedding layer (flattened
        (length · embedding_dim) per row) rather than its input.

    Returns
    -------
    callable
        ``X (n, d) float32 -> (f(X) (n,), dF/dX (n, d))``, evaluated in inference mode.
    """
    raw = _raw_gradients(twin, per_class=target is not None, from_embeddings=from_embeddings)
    return lambda X: raw(X, target)


def class_gradient_functions(twin: Twin, *,
                             from_embeddings: bool = False) -> Callable[[int], GradientFunction]:
    """``target class -> gradient function`` of the log-softmax, built (and traced) once.

    Equivalent to ``gradient_function(twin, target=c)`` for every ``c``, but the Keras graph
    takes the class as an argument, so explaining ten classes traces it once, not ten times.
    """
    raw = _raw_gradients(twin, per_class=True, from_embeddings=from_embeddings)
    return lambda target: (lambda X: raw(X, int(target)))


def differentiated_row_shape(network: Network, *, from_embeddings: bool = False
                             ) -> tuple[int, ...]:
    """Shape of one row where the gradient is taken: the input, or the embedding's output."""
    if not from_embeddings:
        return tuple(network.input_shape)
    for named in network.named_layers():
        if named.layer.kind == "embedding":
            return tuple(named.layer.output_shape(named.input_shape))
    raise ValueError(f"the {network.kind} network has no embedding layer to attribute through")


def _raw_gradients(twin: Twin, *, per_class: bool, from_embeddings: bool) -> _RawGradients:
    builders = {"torch": _torch_gradients, "keras": _keras_gradients}
    if twin.framework not in builders:
        raise ValueError(f"no gradient function for framework {twin.framework!r} "
                         f"(expected one of {sorted(builders)})")
    if not hasattr(twin, "model_"):
        raise ValueError("the twin has no model yet: call initialize() or fit() first")
    row_shape = differentiated_row_shape(twin.network, from_embeddings=from_embeddings)
    return builders[twin.framework](twin, row_shape, per_class=per_class,
                                    from_embeddings=from_embeddings)


def _torch_gradients(twin: Twin, row_shape: tuple[int, ...], *, per_class: bool,
                     from_embeddings: bool) -> _RawGradients:
    import torch

    model = twin.model_
    model.eval()  # dropout off: attributions explain the deterministic network
    if from_embeddings:
        # The modules after the embedding (nn.Sequential slices share the modules).
        modules = list(model)
        first = next(i for i, module in enumerate(modules)
                     if isinstance(module, torch.nn.Embedding))
        model = model[first + 1:]

    def gradients(X: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray]:
        # from_numpy shares memory with the caller's points: no copy on the way in or out.
        inputs = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).requires_grad_()
        # enable_grad: callers such as captum's sensitivity_max run explanations under no_grad.
        with torch.enable_grad():
            logits = model(inputs.reshape(-1, *row_shape))                    # (n, classes)
            if per_class:
                outputs = torch.log_softmax(logits, dim=1)[:, target]         # (n,)
            else:
                outputs = logits[:, 1] - logits[:, 0]                         # (n,)
            # Rows are independent, so the gradient of the sum is every row's own gradient:
            # one backward pass over the whole batch. Only the input gradient is asked for,
            # so autograd skips the parameters' gradients.
            (gradient,) = torch.autograd.grad(outputs.sum(), inputs)          # (n, d)
        return outputs.detach().numpy(), gradient.numpy()

    return gradients


def _keras_gradients(twin: Twin, row_shape: tuple[int, ...], *, per_class: bool,
                     from_embeddings: bool) -> _RawGradients:
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "the Keras twin's gradients use tf.GradientTape, which needs Keras' tensorflow "
            f"backend; this Keras runs on {keras.backend.backend()!r} "
            "(set KERAS_BACKEND=tensorflow before importing keras)"
        )
    import tensorflow as tf

    model = twin.model_
    if from_embeddings:
        layers = list(model.layers)
        first = next(i for i, layer in enumerate(layers)
                     if isinstance(layer, keras.layers.Embedding))
        rest = layers[first + 1:]

        def network(inputs):
            for layer in rest:
                inputs = layer(inputs, training=False)
            return inputs
    else:
        def network(inputs):
            return model(inputs, training=False)

    width = int(np.prod(row_shape))

    def forward(inputs, target):
        # Tabular rows are already the network's rows: no reshape there, the graph (and the
        # numbers) stay those of the plain model call.
        shaped = inputs if len(row_shape) == 1 else tf.reshape(inputs, [-1, *row_shape])
        logits = network(shaped)                                              # (n, classes)
        if target is None:
            return logits[:, 1] - logits[:, 0]                                # (n,)
        return tf.gather(tf.nn.log_softmax(logits, axis=1), target, axis=1)   # (n,)

    def tape(inputs, target=None):
        with tf.GradientTape() as recorder:
            recorder.watch(inputs)
            outputs = forward(inputs, target)
        return outputs, recorder.gradient(outputs, inputs)                    # (n,), (n, d)

    # A relaxed (None) row dimension traces the graph once for every batch size; without it
    # each new batch length (the last, shorter batch) would retrace. The class is a tensor
    # argument, so one trace serves every class.
    rows = tf.TensorSpec([None, width], tf.float32)
    if per_class:
        traced = tf.function(tape, input_signature=[rows, tf.TensorSpec([], tf.int32)],
                             reduce_retracing=True)
    else:
        traced = tf.function(lambda inputs: tape(inputs), input_signature=[rows],
                             reduce_retracing=True)

    def gradients(X: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray]:
        inputs = tf.convert_to_tensor(np.asarray(X, dtype=np.float32))
        outputs, gradient = (traced(inputs, tf.constant(target, tf.int32)) if per_class
                             else traced(inputs))
        return outputs.numpy(), gradient.numpy()

    return gradients
