"""The Keras twin's primitives on TensorFlow: ``tf.GradientTape`` for every gradient, each
function traced once by ``tf.function`` with the batch dimension left open.

Keras 3 has no backend-neutral gradient call, so each backend the twin runs on supplies these
(:mod:`twinaudit.frameworks.keras.backends`); the twin caches what they return. Gradients are
lists in the order of the twin's trainable variables (``KerasTwin._trainable``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

from twinaudit.frameworks.base import CLIP_STABILITY, RawGradients

if TYPE_CHECKING:
    from twinaudit.frameworks.base import Twin


def activation(name: str | None) -> str | None:
    """Keras' own activations keep the twin's float type on TensorFlow."""
    return name


def reconstruction_loss(precision: str) -> keras.losses.Loss:
    return keras.losses.MeanSquaredError(dtype=precision)


def _rows(twin: Twin) -> tf.TensorSpec:
    """Any number of rows of the network's input."""
    assert twin.network is not None, "the twin has no network"
    return tf.TensorSpec([None, *twin.network.input_shape], twin.input_dtype)


LABELS = tf.TensorSpec([None], tf.int64)


def _weights(twin: Twin, weighted: bool) -> list:
    return [tf.TensorSpec([None], twin.precision)] if weighted else []


def train_step(twin: Twin, weighted: bool):
    """Keras' own ``train_step``, compiled once for any batch size.

    ``train_on_batch`` traces again for every new batch shape, so an epoch's smaller last
    batch would cost a second trace (~0.2 s) per twin; we compile ``train_step`` with the batch
    dimension left open, as ``fit`` does.
    """
    assert twin.network is not None, "the twin has no network"
    target = _rows(twin) if twin.network.task.target_is_input else LABELS
    return tf.function(lambda *data: twin.model_.train_step(data),
                       input_signature=[_rows(twin), target, *_weights(twin, weighted)])


def loss_gradients(twin: Twin, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None) -> list:
    """The loss train_step minimises (compute_loss adds the L2 terms), by an eager tape."""
    network = twin.network
    assert network is not None, "the twin has no network"
    model = twin.model_
    target = X if network.task.target_is_input else y
    with tf.GradientTape() as tape:
        output = model(X, training=True)
        loss = model.compute_loss(x=X, y=target, y_pred=output, sample_weight=batch_weight,
                                  training=True)
    return [tf.convert_to_tensor(g) for g in tape.gradient(loss, _variables(twin))]


def _variables(twin: Twin) -> list:
    return list(twin._trainable().values())


def loss_gradients_and_output(twin: Twin, weighted: bool):
    """The loss of :func:`loss_gradients` and the output it was computed from, traced once:
    ``(X, y[, w]) -> [*gradients, output]``."""
    network = twin.network
    assert network is not None, "the twin has no network"
    model, variables = twin.model_, _variables(twin)

    def gradients(X, y, weight=None):
        with tf.GradientTape() as tape:
            output = model(X, training=True)
            loss = model.compute_loss(x=X, y=X if network.task.target_is_input else y,
                                      y_pred=output, sample_weight=weight, training=True)
        return [*[tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)], output]

    return tf.function(gradients,
                       input_signature=[_rows(twin), LABELS, *_weights(twin, weighted)])


def output_gradients(twin: Twin):
    """The vector–Jacobian product ``(X, upstream) -> gradients``, traced once (eager tapes
    cost several times the arithmetic on batches this small)."""
    network = twin.network
    assert network is not None, "the twin has no network"
    model, variables = twin.model_, _variables(twin)

    def vjp(X, upstream):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(model(X, training=True) * upstream)
        return [tf.convert_to_tensor(g) for g in tape.gradient(total, variables)]

    return tf.function(vjp, input_signature=[
        _rows(twin), tf.TensorSpec([None, network.output_size], twin.precision)])


def apply_gradients(twin: Twin):
    """The optimizer's step with given gradients, traced once (as ``train_step`` is)."""
    variables = _variables(twin)

    def apply(*gradients):
        twin.model_.optimizer.apply_gradients(zip(gradients, variables, strict=True))

    return tf.function(apply, input_signature=[
        tf.TensorSpec(variable.shape, variable.dtype) for variable in variables])


def clipped_gradient_sum(twin: Twin):
    """Per-row gradients of a dense network without a per-row pass, as in the torch twin
    (see there): each Dense layer's input ``a`` and pre-activation ``z = a·kernel + bias``
    (Keras' Dense, spelled out to keep ``z``), ``δ = ∂(Σ l_i)/∂z`` from the tape, and the
    clipped sums ``aᵀ(c ⊙ δ)``, ``Σ c_i δ_i`` — in one traced graph: ``(X, y, C) ->
    [kernel₀, bias₀, …, norms]``."""
    network = twin.network
    assert network is not None, "the twin has no network"
    model = twin.model_

    def clipped_sum(X, y, clipping_norm):
        with tf.GradientTape() as tape:
            hidden, activations, outputs = X, [], []
            for layer in model.layers:
                if isinstance(layer, keras.layers.Dense):
                    activations.append(hidden)
                    hidden = tf.matmul(hidden, layer.kernel) + layer.bias
                    outputs.append(hidden)
                    hidden = layer.activation(hidden)
                else:
                    hidden = layer(hidden, training=True)
            if network.task.target_is_input:
                losses = tf.reduce_mean(tf.square(hidden - X), axis=1)
            else:
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(y, hidden)
            total = tf.reduce_sum(losses)
        signals = tape.gradient(total, outputs)
        norms = tf.sqrt(tf.add_n([
            (tf.reduce_sum(tf.square(a), axis=1) + 1) * tf.reduce_sum(tf.square(d), axis=1)
            for a, d in zip(activations, signals, strict=True)]))
        factors = tf.minimum(tf.ones_like(norms), clipping_norm / (norms + CLIP_STABILITY))
        summed = []
        for a, d in zip(activations, signals, strict=True):
            scaled = d * factors[:, None]
            summed += [tf.matmul(a, scaled, transpose_a=True), tf.reduce_sum(scaled, axis=0)]
        return [*summed, norms]

    return tf.function(clipped_sum, input_signature=[_rows(twin), LABELS,
                                                     tf.TensorSpec([], twin.precision)])


def raw_gradients(twin: Twin, row_shape: tuple[int, ...], *, per_class: bool,
                  from_embeddings: bool) -> RawGradients:
    """The explained output and its input gradient for attribution (see
    :mod:`twinaudit.attribution.gradients`), in one traced graph."""
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
