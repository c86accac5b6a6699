"""The Keras twin's input gradients for attribution: ``tf.GradientTape`` in one traced graph.

See :mod:`twinaudit.attribution.gradients` for what is explained and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twinaudit.frameworks.base import RawGradients

if TYPE_CHECKING:
    from twinaudit.frameworks.base import Twin


def raw_gradients(twin: Twin, row_shape: tuple[int, ...], *, per_class: bool,
                     from_embeddings: bool) -> RawGradients:
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
