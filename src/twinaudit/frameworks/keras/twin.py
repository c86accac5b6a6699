"""The Keras 3 twin: a ``Sequential`` of the network's layers, trained with Keras' ``train_step``.

Only Keras' public, backend-neutral API is used (``keras.ops``, ``train_on_batch``), so the twin
runs on whichever Keras backend is configured; results record which one it was.
"""

from __future__ import annotations

import functools
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


def _import_keras():
    """Keras, on the backend ``KERAS_BACKEND`` names; a backend whose package is missing is
    one line naming the extra that installs it."""
    from twinaudit.frameworks.keras.backends import BACKENDS

    try:
        with _native_stderr_silenced():
            import keras
    except ImportError as error:
        backend = os.environ.get("KERAS_BACKEND", "")
        if BACKENDS.get(backend):
            from twinaudit.errors import InputError

            raise InputError(f"KERAS_BACKEND={backend}: Keras cannot import {backend} "
                             f"({error}); pip install 'twinaudit[{BACKENDS[backend]}]'"
                             ) from None
        raise
    return keras


keras = _import_keras()
from keras import ops  # noqa: E402

if keras.backend.backend() == "jax":
    # Before any variable exists: without 64-bit floats JAX stores float64 as float32, and
    # both the float64 twin and the Adam rule's float64 bias corrections need them.
    import jax  # noqa: E402

    jax.config.update("jax_enable_x64", True)

from twinaudit.frameworks.base import RawGradients, Twin  # noqa: E402
from twinaudit.frameworks.keras.adam import TorchRuleAdam  # noqa: E402
from twinaudit.frameworks.keras.backends import backend_module  # noqa: E402
from twinaudit.frameworks.keras.layers import (  # noqa: E402
    build_layers,
    get_parameters,
    parameterised_layers,
    set_parameters,
)
from twinaudit.frameworks.schedule import Schedule  # noqa: E402

_INFERENCE_ROWS = 65536


def _reads_variables(method):
    """A primitive that reads the model's variables: it first settles any state a backend's
    train step keeps outside them (JAX's, between steps)."""

    @functools.wraps(method)
    def settled(self, *args, **kwargs):
        self._settle()
        return method(self, *args, **kwargs)

    return settled


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
            loss=(backend_module().reconstruction_loss(self.precision)
                  if network.task.target_is_input
                  else keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                  dtype=self.precision)),
            # XLA would fuse ops in its own order; parity runs keep the plain kernels.
            jit_compile=False,
        )
        # The backend's primitives, traced once per twin (by name and options).
        self._step_functions: dict[tuple, Callable[..., Any]] = {}

    def train_step(self, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None = None) -> None:
        # Keras divides the weighted loss by the batch size: with weights averaging 1 (see
        # train.batch_weights) that is sum(w·l) / sum(w), as in the torch twin.
        assert self.network is not None, "the twin has no network"
        X = np.asarray(X, dtype=self.input_dtype)
        target = X if self.network.task.target_is_input else y
        data = (X, target) if batch_weight is None else \
            (X, target, np.asarray(batch_weight, dtype=self.precision))
        step = self._compiled("train_step", batch_weight is not None)
        self._settle(but=step)
        step(*data)

    def _settle(self, but: Any = None) -> None:
        """Write back the state the backend's train steps hold (other than ``but``'s)."""
        for function in getattr(self, "_step_functions", {}).values():
            if function is not but and hasattr(function, "settle"):
                function.settle()

    def _compiled(self, primitive: str, *options: Any) -> Callable[..., Any]:
        """The backend's ``primitive`` for this twin, built (traced) once and kept."""
        key = (primitive, *options)
        if key not in self._step_functions:
            self._step_functions[key] = getattr(backend_module(), primitive)(self, *options)
        return self._step_functions[key]

    def _named(self, gradients) -> dict[str, np.ndarray]:
        """A backend's gradient list as numpy copies by canonical name."""
        return {name: ops.convert_to_numpy(gradient).copy()
                for name, gradient in zip(self._trainable(), gradients, strict=True)}

    @_reads_variables
    def _loss_gradients(self, X: np.ndarray, y: np.ndarray,
                        batch_weight: np.ndarray | None) -> dict[str, np.ndarray]:
        return self._named(backend_module().loss_gradients(self, X, y, batch_weight))

    def _trainable(self) -> dict[str, Any]:
        """The trainable variables by canonical name (``layer.variable``)."""
        return {f"{name}.{variable.name}": variable for name, layer in self._layers.items()
                for variable in layer.trainable_weights}

    @_reads_variables
    def output_gradients(self, X: np.ndarray, upstream: np.ndarray) -> dict[str, np.ndarray]:
        return self._named(self._compiled("output_gradients")(
            np.asarray(X, dtype=self.input_dtype), np.asarray(upstream, dtype=self.precision)))

    @_reads_variables
    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        self._compiled("apply_gradients")(
            *[np.asarray(gradients[name], dtype=variable.dtype)
              for name, variable in self._trainable().items()])

    @_reads_variables
    def loss_gradients_and_output(self, X: np.ndarray, y: np.ndarray,
                                  batch_weight: np.ndarray | None = None
                                  ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        X = np.asarray(X, dtype=self.input_dtype)
        data = [X, np.asarray(y, dtype=np.int64)] + (
            [] if batch_weight is None else [np.asarray(batch_weight, dtype=self.precision)])
        *gradients, output = self._compiled("loss_gradients_and_output",
                                            batch_weight is not None)(*data)
        return self._named(gradients), ops.convert_to_numpy(output)

    @_reads_variables
    def clipped_gradient_sum(self, X: np.ndarray, y: np.ndarray,
                             clipping_norm: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if not all(isinstance(layer, keras.layers.Dense) for layer in self._layers.values()):
            raise ValueError("DP-SGD's clipped gradients are implemented for dense networks")
        *summed, norms = self._compiled("clipped_gradient_sum")(
            np.asarray(X, dtype=self.input_dtype), np.asarray(y, dtype=np.int64),
            np.asarray(clipping_norm, dtype=self.precision))
        names = [f"{name}.{variable}" for name in self._layers for variable in ("kernel", "bias")]
        return ({name: ops.convert_to_numpy(gradient).copy()
                 for name, gradient in zip(names, summed, strict=True)},
                ops.convert_to_numpy(norms).astype(np.float64))

    @_reads_variables
    def forward(self, X) -> np.ndarray:
        assert self.network is not None, "the twin has no network"
        X = np.asarray(X, dtype=self.input_dtype)
        return np.concatenate([
            ops.convert_to_numpy(self.model_(X[start:start + _INFERENCE_ROWS], training=False))
            for start in range(0, max(len(X), 1), _INFERENCE_ROWS)
        ])

    @_reads_variables
    def get_weights(self) -> dict[str, np.ndarray]:
        return get_parameters(self._layers)

    @_reads_variables
    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        set_parameters(self._layers, weights)

    @_reads_variables
    def _save_weights(self, path: Path) -> None:
        self.model_.save(path, include_optimizer=False)

    @classmethod
    def environment(cls) -> dict[str, Any]:
        return {"keras_backend": keras.backend.backend()}

    @_reads_variables
    def raw_gradients(self, row_shape: tuple[int, ...], *, per_class: bool,
                      from_embeddings: bool) -> RawGradients:
        return backend_module().raw_gradients(self, row_shape, per_class=per_class,
                                              from_embeddings=from_embeddings)

    def _load_weights(self, path: Path) -> None:
        import zipfile

        if not zipfile.is_zipfile(path):
            raise ValueError("truncated, or not a .keras archive")
        # safe_mode refuses to deserialise arbitrary code (lambdas) from a checkpoint.
        saved = keras.saving.load_model(path, safe_mode=True, compile=False)
        assert self.network is not None, "the twin has no network"
        self.set_weights(get_parameters(parameterised_layers(saved, self.network)))
