"""The Keras 3 twin: a ``Sequential`` of the network's layers, trained with Keras' ``train_step``.

Only Keras' public, backend-neutral API is used (``keras.ops``, ``train_on_batch``), so the twin
runs on whichever Keras backend is configured; results record which one it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter, not ours


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what C++ code writes to file descriptor 2 (Python's own errors still raise).

    TensorFlow's native logger prints an absl banner and a oneDNN notice at import whatever
    TF_CPP_MIN_LOG_LEVEL says; they are not ours to show on every ``twinaudit run``.
    """
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


with _native_stderr_silenced():
    import keras  # noqa: E402
    from keras import ops  # noqa: E402

from twinaudit.frameworks.base import CLIP_STABILITY, RawGradients, Twin  # noqa: E402
from twinaudit.frameworks.keras import gradients  # noqa: E402
from twinaudit.frameworks.keras.adam import TorchRuleAdam  # noqa: E402
from twinaudit.frameworks.keras.layers import (  # noqa: E402
    build_layers,
    get_parameters,
    parameterised_layers,
    set_parameters,
)
from twinaudit.frameworks.schedule import Schedule  # noqa: E402

_INFERENCE_ROWS = 65536


class KerasTwin(Twin):
    """Keras 3 twin. The loss is Keras' own sample-weighted cross-entropy on logits (or mean
    squared error for a reconstruction)."""

    framework: ClassVar[str] = "keras"
    checkpoint_suffix: ClassVar[str] = ".keras"
    packages: ClassVar[tuple[str, ...]] = ("tensorflow-cpu", "keras")

    @contextmanager
    def _floatx(self) -> Iterator[None]:
        """Keras' floatx set to the twin's precision while the model is compiled.

        The compiled loss casts the loss to the floatx of compile time (float32 by default);
        the L2 penalties are in the weights' dtype. A float64 twin is compiled with floatx
        float64, so its loss and penalties are float64 and add up.
        """
        previous = keras.config.floatx()
        keras.config.set_floatx(self.precision)
        try:
            yield
        finally:
            keras.config.set_floatx(previous)

    def _build(self, weights: dict[str, np.ndarray]) -> None:
        with self._floatx():
            self._build_in_floatx(weights)

    def _build_in_floatx(self, weights: dict[str, np.ndarray]) -> None:
        network = self.network
        assert network is not None, "the twin has no network"
        self.model_ = keras.Sequential(build_layers(network, l2=network.l2,
                                                    dtype=self.precision,
                                                    input_dtype=self.input_dtype))
        self._layers = parameterised_layers(self.model_, network)
        self.set_weights(weights)
        schedule = self.schedule or Schedule()
        self.model_.compile(
            optimizer=TorchRuleAdam(
                learning_rate=schedule.learning_rate, beta_1=schedule.beta_1,
                beta_2=schedule.beta_2, epsilon=schedule.epsilon,
            ),
            # A loss computes in Keras' floatx (float32) unless told otherwise.
            loss=(keras.losses.MeanSquaredError(dtype=self.precision)
                  if network.task.target_is_input
                  else keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                  dtype=self.precision)),
            # XLA would fuse ops in its own order; parity runs keep the plain kernels.
            jit_compile=False,
        )
        # Compiled once per twin: train_step by whether it is weighted, and the adversarial
        # primitives by name.
        self._step_functions: dict[bool | str, Callable[..., Any]] = {}

    def train_step(self, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None = None) -> None:
        # Keras divides the weighted loss by the batch size: with weights averaging 1 (see
        # train.batch_weights) that is sum(w·l) / sum(w), as in the torch twin.
        assert self.network is not None, "the twin has no network"
        X = np.asarray(X, dtype=self.input_dtype)
        target = X if self.network.task.target_is_input else y
        data = (X, target) if batch_weight is None else \
            (X, target, np.asarray(batch_weight, dtype=self.precision))
        weighted = batch_weight is not None
        if weighted not in self._step_functions:
            self._step_functions[weighted] = self._compiled_step(weighted)
        self._step_functions[weighted](*data)

    def _compiled_step(self, weighted: bool):
        """Keras' own ``train_step``, compiled once for any batch size.

        ``train_on_batch`` traces again for every new batch shape, so an epoch's smaller last
        batch costs a second trace (~0.2 s) per twin; on TensorFlow we compile ``train_step``
        with the batch dimension left open, as ``fit`` does. Other backends keep
        ``train_on_batch``.
        """
        if keras.backend.backend() != "tensorflow":
            return lambda X, y, weight=None: self.model_.train_on_batch(X, y,
                                                                         sample_weight=weight)
        import tensorflow as tf

        network = self.network
        assert network is not None, "the twin has no network"
        inputs = tf.TensorSpec([None, *network.input_shape], self.input_dtype)
        target = inputs if network.task.target_is_input else tf.TensorSpec([None], tf.int64)
        signature = [inputs, target]
        if weighted:
            signature.append(tf.TensorSpec([None], self.precision))
        return tf.function(lambda *data: self.model_.train_step(data),
                           input_signature=signature)

    def _loss_gradients(self, X: np.ndarray, y: np.ndarray,
                        batch_weight: np.ndarray | None) -> dict[str, np.ndarray]:
        # The loss train_step minimises (compute_loss adds the L2 terms), differentiated by
        # TensorFlow's tape: Keras 3 has no backend-neutral gradient call.
        import tensorflow as tf

        assert self.network is not None, "the twin has no network"
        target = X if self.network.task.target_is_input else y
        with tf.GradientTape() as tape:
            output = self.model_(X, training=True)
            loss = self.model_.compute_loss(x=X, y=target, y_pred=output,
                                            sample_weight=batch_weight, training=True)
        variables = self._trainable()
        gradients = tape.gradient(loss, list(variables.values()))
        return {name: ops.convert_to_numpy(tf.convert_to_tensor(gradient)).copy()
                for name, gradient in zip(variables, gradients, strict=True)}

    def _trainable(self) -> dict[str, Any]:
        """The trainable variables by canonical name (``layer.variable``)."""
        return {f"{name}.{variable.name}": variable for name, layer in self._layers.items()
                for variable in layer.trainable_weights}

    def output_gradients(self, X: np.ndarray, upstream: np.ndarray) -> dict[str, np.ndarray]:
        if "output_gradients" not in self._step_functions:
            self._step_functions["output_gradients"] = self._compiled_output_gradients()
        gradients = self._step_functions["output_gradients"](
            np.asarray(X, dtype=self.input_dtype), np.asarray(upstream, dtype=self.precision))
        return {name: ops.convert_to_numpy(gradient).copy()
                for name, gradient in zip(self._trainable(), gradients, strict=True)}

    def _compiled_output_gradients(self):
        """The vector–Jacobian product, traced once by TensorFlow for any batch size (eager
        tapes cost several times the arithmetic on batches this small)."""
        import tensorflow as tf  # as in _loss_gradients: the tape is TensorFlow's

        network = self.network
        assert network is not None, "the twin has no network"
        variables = list(self._trainable().values())

        def vjp(X, upstream):
            with tf.GradientTape() as tape:
                total = tf.reduce_sum(self.model_(X, training=True) * upstream)
            return [tf.convert_to_tensor(g) for g in tape.gradient(total, variables)]

        return tf.function(vjp, input_signature=[
            tf.TensorSpec([None, *network.input_shape], self.input_dtype),
            tf.TensorSpec([None, network.output_size], self.precision)])

    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        if "apply_gradients" not in self._step_functions:
            self._step_functions["apply_gradients"] = self._compiled_apply()
        self._step_functions["apply_gradients"](
            *[np.asarray(gradients[name], dtype=variable.dtype)
              for name, variable in self._trainable().items()])

    def loss_gradients_and_output(self, X: np.ndarray, y: np.ndarray,
                                  batch_weight: np.ndarray | None = None
                                  ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        key = f"loss_gradients_and_output/{batch_weight is not None}"
        if key not in self._step_functions:
            self._step_functions[key] = self._compiled_loss_gradients(batch_weight is not None)
        X = np.asarray(X, dtype=self.input_dtype)
        data = [X, np.asarray(y, dtype=np.int64)] + (
            [] if batch_weight is None else [np.asarray(batch_weight, dtype=self.precision)])
        *gradients, output = self._step_functions[key](*data)
        return ({name: ops.convert_to_numpy(gradient).copy()
                 for name, gradient in zip(self._trainable(), gradients, strict=True)},
                ops.convert_to_numpy(output))

    def _compiled_loss_gradients(self, weighted: bool):
        """The loss of :meth:`_loss_gradients` (Keras' compute_loss, L2 included) and the
        output it was computed from, traced once."""
        import tensorflow as tf

        network = self.network
        assert network is not None, "the twin has no network"
        variables = list(self._trainable().values())

        def gradients(X, y, weight=None):
            with tf.GradientTape() as tape:
                output = self.model_(X, training=True)
                loss = self.model_.compute_loss(x=X, y=X if network.task.target_is_input
                                                else y, y_pred=output, sample_weight=weight,
                                                training=True)
            return [*[tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)], output]

        signature = [tf.TensorSpec([None, *network.input_shape], self.input_dtype),
                     tf.TensorSpec([None], tf.int64)]
        if weighted:
            signature.append(tf.TensorSpec([None], self.precision))
        return tf.function(gradients, input_signature=signature)

    def clipped_gradient_sum(self, X: np.ndarray, y: np.ndarray,
                             clipping_norm: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if "clipped_gradient_sum" not in self._step_functions:
            self._step_functions["clipped_gradient_sum"] = self._compiled_clipped_sum()
        *summed, norms = self._step_functions["clipped_gradient_sum"](
            np.asarray(X, dtype=self.input_dtype), np.asarray(y, dtype=np.int64),
            np.asarray(clipping_norm, dtype=self.precision))
        names = [f"{name}.{variable}" for name in self._layers for variable in ("kernel", "bias")]
        return ({name: ops.convert_to_numpy(gradient).copy()
                 for name, gradient in zip(names, summed, strict=True)},
                ops.convert_to_numpy(norms).astype(np.float64))

    def _compiled_clipped_sum(self):
        """Per-row gradients of a dense network without a per-row pass, as in the torch twin
        (see there): each Dense layer's input ``a`` and pre-activation ``z = a·kernel + bias``
        (Keras' Dense, spelled out to keep ``z``), ``δ = ∂(Σ l_i)/∂z`` from the tape, and the
        clipped sums ``aᵀ(c ⊙ δ)``, ``Σ c_i δ_i`` — in one traced graph."""
        import tensorflow as tf

        network = self.network
        assert network is not None, "the twin has no network"
        if not all(isinstance(layer, keras.layers.Dense) for layer in self._layers.values()):
            raise ValueError("DP-SGD's clipped gradients are implemented for dense networks")

        def clipped_sum(X, y, clipping_norm):
            with tf.GradientTape() as tape:
                hidden, activations, outputs = X, [], []
                for layer in self.model_.layers:
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

        return tf.function(clipped_sum, input_signature=[
            tf.TensorSpec([None, *network.input_shape], self.input_dtype),
            tf.TensorSpec([None], tf.int64), tf.TensorSpec([], self.precision)])

    def _compiled_apply(self):
        """The optimizer's step with given gradients, traced once (as ``train_step`` is)."""
        import tensorflow as tf

        variables = list(self._trainable().values())

        def apply(*gradients):
            self.model_.optimizer.apply_gradients(zip(gradients, variables, strict=True))

        return tf.function(apply, input_signature=[
            tf.TensorSpec(variable.shape, variable.dtype) for variable in variables])

    def forward(self, X) -> np.ndarray:
        assert self.network is not None, "the twin has no network"
        X = np.asarray(X, dtype=self.input_dtype)
        return np.concatenate([
            ops.convert_to_numpy(self.model_(X[start:start + _INFERENCE_ROWS], training=False))
            for start in range(0, max(len(X), 1), _INFERENCE_ROWS)
        ])

    def get_weights(self) -> dict[str, np.ndarray]:
        return get_parameters(self._layers)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        set_parameters(self._layers, weights)

    def _save_weights(self, path: Path) -> None:
        self.model_.save(path, include_optimizer=False)

    @classmethod
    def environment(cls) -> dict[str, Any]:
        return {"keras_backend": keras.backend.backend()}

    def raw_gradients(self, row_shape: tuple[int, ...], *, per_class: bool,
                      from_embeddings: bool) -> RawGradients:
        return gradients.raw_gradients(self, row_shape, per_class=per_class,
                                       from_embeddings=from_embeddings)

    def _load_weights(self, path: Path) -> None:
        import zipfile

        if not zipfile.is_zipfile(path):
            raise ValueError("truncated, or not a .keras archive")
        # safe_mode refuses to deserialise arbitrary code (lambdas) from a checkpoint.
        saved = keras.saving.load_model(path, safe_mode=True, compile=False)
        assert self.network is not None, "the twin has no network"
        self.set_weights(get_parameters(parameterised_layers(saved, self.network)))
