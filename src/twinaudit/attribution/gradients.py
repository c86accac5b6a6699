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

Each twin class supplies its framework's part (``Twin.raw_gradients``, implemented in
``twinaudit/frameworks/<framework>/gradients.py``): this module never names a framework, and
each framework is imported only by its own twin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twinaudit.frameworks.base import GradientFunction, RawGradients

if TYPE_CHECKING:
    from twinaudit.frameworks.base import Twin
    from twinaudit.nets import Network

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
        A built (initialised or fitted) twin; its own ``raw_gradients`` does the framework's
        part.
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


def _raw_gradients(twin: Twin, *, per_class: bool, from_embeddings: bool) -> RawGradients:
    if not hasattr(twin, "n_features_in_"):  # set by initialize()
        raise ValueError("the twin has no model yet: call initialize() or fit() first")
    assert twin.network is not None, "the twin has no network"  # it has a model: it has one
    row_shape = differentiated_row_shape(twin.network, from_embeddings=from_embeddings)
    return twin.raw_gradients(row_shape, per_class=per_class, from_embeddings=from_embeddings)


