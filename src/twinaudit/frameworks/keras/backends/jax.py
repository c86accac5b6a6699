"""The Keras twin's primitives on JAX: ``jax.grad`` over Keras' stateless calls, each
function ``jax.jit``-compiled once.

The forward pass and the loss are Keras' own (``stateless_call``,
``compute_loss_and_updates``: the loss ``train_step`` minimises, L2 terms included), taken at
the twin's current variable values; only the differentiation is JAX's. The optimizer's step
is Keras' (torch's Adam rule, :mod:`twinaudit.frameworks.keras.adam`). The twin module turns
JAX's 64-bit floats on before any variable exists (``jax_enable_x64``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import ops

from twinaudit.frameworks.base import CLIP_STABILITY, RawGradients

if TYPE_CHECKING:
    from twinaudit.frameworks.base import Twin


@keras.saving.register_keras_serializable(package="twinaudit")
class ExactMeanSquaredError(keras.losses.Loss):
    """Keras' mean squared error over the features, as their sum divided by their count.

    Off TensorFlow, Keras 3.15's type promotion maps 64-bit floats to 32-bit
    (``BIT64_TO_BIT32_DTYPE``), so ``ops.mean`` of a float64 tensor on JAX is computed in
    float32 — 1e-7 off numpy's — and the float64 proof of a reconstruction twin fails on
    it; ``ops.sum`` and the division keep float64.
    """

    def call(self, y_true, y_pred):
        return ops.sum(ops.square(y_pred - y_true), axis=-1) / y_pred.shape[-1]


@keras.saving.register_keras_serializable(package="twinaudit")
def exact_tanh(x):
    """tanh in the input's own float type: Keras 3.15's ``ops.tanh`` casts to
    ``result_type(x.dtype, float)``, which is float32 off TensorFlow, so a float64 LSTM (or a
    tanh MLP) on JAX computed its tanh in float32 and failed the exact proof on it."""
    return jnp.tanh(x)


def activation(name: str | None):
    """The activation Keras layers get: Keras' own, but tanh in the input's float type."""
    return exact_tanh if name == "tanh" else name


def reconstruction_loss(precision: str) -> keras.losses.Loss:
    return ExactMeanSquaredError(dtype=precision)


def _state(twin: Twin) -> tuple[list, list, list]:
    """The model's trainable (in the twin's canonical order), non-trainable and metrics
    variables' current values."""
    model = twin.model_
    trainable = [variable.value for variable in twin._trainable().values()]
    return (trainable, [v.value for v in model.non_trainable_variables],
            [v.value for v in model.metrics_variables])


def _model_order(twin: Twin) -> list[int]:
    """Where each of the model's trainable variables sits in the twin's canonical order."""
    canonical = [id(variable) for variable in twin._trainable().values()]
    return [canonical.index(id(variable)) for variable in twin.model_.trainable_variables]


class TrainStep:
    """Keras' own ``train_step`` (its JAX trainer's pure function of the state), jit-compiled,
    with the state kept in JAX arrays from one step to the next — as ``model.fit`` keeps it
    within an epoch — and written back to the Keras variables by :meth:`settle`, which the
    twin calls before anything reads them.

    ``train_on_batch`` would read and write every variable around each step and, with the
    twin's ``jit_compile=False``, run the step op by op: 4–5× ``model.fit``'s time on Adult.
    """

    def __init__(self, twin: Twin):
        self.model = twin.model_
        self.step = jax.jit(self.model.train_step)
        self.state: tuple[list, ...] | None = None

    def _variables(self) -> tuple[list, ...]:
        model = self.model
        return (model.trainable_variables, model.non_trainable_variables,
                model.optimizer.variables, model.metrics_variables)

    def __call__(self, X, y, weight=None) -> None:
        if self.state is None:
            # What train_on_batch does first: build the optimizer's and the loss's variables.
            self.model._symbolic_build(data_batch=(X, y, weight))
            self.state = tuple([v.value for v in group] for group in self._variables())
        _, self.state = self.step(self.state, (X, y, weight))

    def settle(self) -> None:
        if self.state is not None:
            for group, values in zip(self._variables(), self.state, strict=True):
                for variable, value in zip(group, values, strict=True):
                    variable.assign(value)
            self.state = None


def train_step(twin: Twin, weighted: bool) -> TrainStep:
    return TrainStep(twin)


def _loss(twin: Twin):
    """``(trainable in canonical order, non-trainable, metrics, X, y, w) -> (loss, output)``."""
    model, order = twin.model_, _model_order(twin)
    assert twin.network is not None, "the twin has no network"
    reconstruction = twin.network.task.target_is_input

    def loss(trainable, non_trainable, metrics, X, y, weight):
        in_model_order = [trainable[index] for index in order]
        # (The optimizer's variables only serve a loss scale, which the twins' Adam has not.)
        value, (_, output, _, _) = model.compute_loss_and_updates(
            in_model_order, non_trainable, metrics, X, X if reconstruction else y, weight,
            training=True, optimizer_variables=[v.value for v in model.optimizer.variables])
        return value, output

    return loss


def loss_gradients(twin: Twin, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None) -> list:
    trainable, non_trainable, metrics = _state(twin)
    (_, _), gradients = jax.value_and_grad(_loss(twin), has_aux=True)(
        trainable, non_trainable, metrics, jnp.asarray(X), jnp.asarray(y),
        None if batch_weight is None else jnp.asarray(batch_weight))
    return list(gradients)


def loss_gradients_and_output(twin: Twin, weighted: bool):
    gradient = jax.jit(jax.value_and_grad(_loss(twin), has_aux=True))

    def run(X, y, weight=None):
        (_, output), gradients = gradient(*_state(twin), X, y, weight)
        return [*gradients, output]

    return run


def output_gradients(twin: Twin):
    model = twin.model_
    order = _model_order(twin)

    @jax.jit
    def vjp(trainable, non_trainable, X, upstream):
        def output(values):
            result, _ = model.stateless_call([values[i] for i in order], non_trainable, X,
                                             training=True)
            return result

        _, pullback = jax.vjp(output, trainable)
        return pullback(upstream)[0]

    def run(X, upstream):
        trainable, non_trainable, _ = _state(twin)
        return list(vjp(trainable, non_trainable, X, upstream))

    return run


def apply_gradients(twin: Twin):
    variables = list(twin._trainable().values())

    def apply(*gradients):
        twin.model_.optimizer.apply_gradients(zip(gradients, variables, strict=True))

    return apply


def clipped_gradient_sum(twin: Twin):
    """As the TensorFlow backend's: each Dense layer's pre-activation gets a zero offset, whose
    gradient is every row's ``δ = ∂l_i/∂z``; the norms and clipped sums follow from it."""
    assert twin.network is not None, "the twin has no network"
    reconstruction = twin.network.task.target_is_input
    layers = [layer for layer in twin.model_.layers if isinstance(layer, keras.layers.Dense)]

    def total_loss(offsets, parameters, X, y):
        hidden, activations = X, []
        for layer, (kernel, bias), offset in zip(layers, parameters, offsets, strict=True):
            activations.append(hidden)
            hidden = layer.activation(hidden @ kernel + bias + offset)
        if reconstruction:
            losses = jnp.mean(jnp.square(hidden - X), axis=1)
        else:
            losses = -jnp.take_along_axis(jax.nn.log_softmax(hidden, axis=1), y[:, None],
                                          axis=1)[:, 0]
        return jnp.sum(losses), activations

    @jax.jit
    def clipped_sum(parameters, X, y, clipping_norm):
        offsets = [jnp.zeros((X.shape[0], kernel.shape[1]), X.dtype)
                   for kernel, _ in parameters]
        signals, activations = jax.grad(total_loss, has_aux=True)(offsets, parameters, X, y)
        norms = jnp.sqrt(sum((jnp.sum(a * a, axis=1) + 1) * jnp.sum(d * d, axis=1)
                             for a, d in zip(activations, signals, strict=True)))
        factors = jnp.minimum(1.0, clipping_norm / (norms + CLIP_STABILITY))
        summed = []
        for a, d in zip(activations, signals, strict=True):
            scaled = d * factors[:, None]
            summed += [a.T @ scaled, jnp.sum(scaled, axis=0)]
        return [*summed, norms]

    def run(X, y, clipping_norm):
        parameters = [(layer.kernel.value, layer.bias.value) for layer in layers]
        return clipped_sum(parameters, X, y, clipping_norm)

    return run


def raw_gradients(twin: Twin, row_shape: tuple[int, ...], *, per_class: bool,
                  from_embeddings: bool) -> RawGradients:
    """The explained output (the logit margin, or a class's log-probability) and its input
    gradient, one jitted function for every batch size the attribution uses."""
    model = twin.model_
    layers = list(model.layers)
    if from_embeddings:
        first = next(i for i, layer in enumerate(layers)
                     if isinstance(layer, keras.layers.Embedding))
        layers = layers[first + 1:]

    def explained(inputs, target):
        hidden = inputs if len(row_shape) == 1 else inputs.reshape(-1, *row_shape)
        for layer in layers:
            hidden = layer(hidden, training=False)
        if target is None:
            return hidden[:, 1] - hidden[:, 0]
        return jax.nn.log_softmax(hidden, axis=1)[:, target]

    @jax.jit
    def with_gradient(inputs, target):
        outputs, pullback = jax.vjp(lambda x: explained(x, target), inputs)
        return outputs, pullback(jnp.ones_like(outputs))[0]

    @jax.jit
    def margin_gradient(inputs):
        outputs, pullback = jax.vjp(lambda x: explained(x, None), inputs)
        return outputs, pullback(jnp.ones_like(outputs))[0]

    def gradients(X: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray]:
        inputs = jnp.asarray(np.asarray(X, dtype=np.float32))
        outputs, gradient = (with_gradient(inputs, target) if per_class
                             else margin_gradient(inputs))
        return np.asarray(outputs), np.asarray(gradient)

    return gradients
