"""The Keras 3 twin: a ``Sequential`` of the network's layers, trained with Keras' ``train_step``.

Only Keras' public, backend-neutral API is used (``keras.ops``, ``train_on_batch``), so the twin
runs on whichever Keras backend is configured; results record which one it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

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

from twinaudit.nets import RECONSTRUCTION  # noqa: E402
from twinaudit.train import Schedule  # noqa: E402
from twinaudit.twins.base import Twin  # noqa: E402
from twinaudit.twins.keras_layers import build_layers, get_parameters, \
    parameterised_layers, set_parameters  # noqa: E402

_INFERENCE_ROWS = 65536


def _dense(gradient):
    """An embedding's gradient densified, repeated tokens summed, as torch's is.

    On TensorFlow it arrives as IndexedSlices with one slice per token occurrence; Keras' ops
    on those work slice by slice, so squaring them before repeated tokens are summed would
    make Adam's v a sum of squares rather than the square of the sum.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if isinstance(gradient, tf.IndexedSlices):
            return tf.convert_to_tensor(gradient)
    return gradient


class TorchRuleAdam(keras.optimizers.Adam):
    """Keras Adam with torch's placement of epsilon.

    torch divides by ``sqrt(v̂) + eps`` with the bias-corrected ``v̂ = v / (1 − β₂ᵗ)``; Keras
    divides by ``sqrt(v) + eps`` before correcting, which is the same only with a step-dependent
    epsilon. We keep torch's rule (it is what ``torch.optim.Adam`` users expect) and implement it
    here, so the two twins take the same step.
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        gradient = ops.cast(_dense(gradient), dtype)
        # The bias corrections are formed in float64, as torch forms them in Python floats:
        # in float32, 1 − 0.999 loses five digits to cancellation and the first step would
        # differ from torch's by ~1e-5 relative. (ops.cast of a Python float would round it
        # to float32 first, hence convert_to_tensor with the dtype.)
        step = ops.cast(self.iterations + 1, "float64")
        beta_1 = ops.convert_to_tensor(self.beta_1, dtype="float64")
        beta_2 = ops.convert_to_tensor(self.beta_2, dtype="float64")
        bias_correction_1 = 1 - ops.power(beta_1, step)
        bias_correction_2 = 1 - ops.power(beta_2, step)
        step_size = ops.cast(ops.cast(learning_rate, "float64") / bias_correction_1, dtype)
        bias_correction_2_sqrt = ops.cast(ops.sqrt(bias_correction_2), dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        denominator = ops.add(ops.divide(ops.sqrt(v), bias_correction_2_sqrt), self.epsilon)
        self.assign_sub(variable, ops.multiply(ops.divide(m, denominator), step_size))


class KerasTwin(Twin):
    """Keras 3 twin. The loss is Keras' own sample-weighted cross-entropy on logits (or mean
    squared error for a reconstruction)."""

    framework: ClassVar[str] = "keras"
    checkpoint_suffix: ClassVar[str] = ".keras"

    def _build(self, weights: dict[str, np.ndarray]) -> None:
        network = self.network
        self.model_ = keras.Sequential(build_layers(network, l2=getattr(network, "l2", 0.0)))
        self._layers = parameterised_layers(self.model_, network)
        self.set_weights(weights)
        schedule = self.schedule or Schedule()
        self.model_.compile(
            optimizer=TorchRuleAdam(
                learning_rate=schedule.learning_rate, beta_1=schedule.beta_1,
                beta_2=schedule.beta_2, epsilon=schedule.epsilon,
            ),
            loss=(keras.losses.MeanSquaredError() if network.task == RECONSTRUCTION
                  else keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
            # XLA would fuse ops in its own order; parity runs keep the plain kernels.
            jit_compile=False,
        )
        self._step_functions = {}

    def train_step(self, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None = None) -> None:
        # Keras divides the weighted loss by the batch size: with weights averaging 1 (see
        # train.batch_weights) that is sum(w·l) / sum(w), as in the torch twin.
        target = X if self.network.task == RECONSTRUCTION else y
        data = (X, target) if batch_weight is None else (X, target, batch_weight)
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
        inputs = tf.TensorSpec([None, *network.input_shape], network.input_dtype)
        target = inputs if network.task == RECONSTRUCTION else tf.TensorSpec([None], tf.int64)
        signature = [inputs, target]
        if weighted:
            signature.append(tf.TensorSpec([None], tf.float32))
        return tf.function(lambda *data: self.model_.train_step(data),
                           input_signature=signature)

    def forward(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=self.network.input_dtype)
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

    def _load_weights(self, path: Path) -> None:
        # safe_mode refuses to deserialise arbitrary code (lambdas) from a checkpoint.
        saved = keras.saving.load_model(path, safe_mode=True, compile=False)
        self.set_weights(get_parameters(parameterised_layers(saved, self.network)))
