"""Integrated Gradients, once for every framework: quadrature and bookkeeping in numpy.

For a row ``x``, a baseline ``x'`` and the explained output ``f`` (the log-odds of class 1, or
the log-softmax of a target class; see :mod:`twinaudit.attribution.gradients`),

    IG_j(x) = (x_j − x'_j) · ∫₀¹ ∂f/∂x_j (x' + α (x − x')) dα,

approximated with a quadrature rule ``Σ_k w_k g(α_k)``. The points ``α_k`` and weights ``w_k``
are captum's (``gausslegendre`` by default, or ``riemann_left|right|middle|trapezoid``), so the
attributions of the torch twin equal ``captum.attr.IntegratedGradients`` with the same method
and ``n_steps``. The network is reached only through a gradient function (see
:mod:`twinaudit.attribution.gradients`), so the Keras twin gets the very same computation.

Completeness says that the attributions of a row sum to ``f(x) − f(x')``; the quadrature only
approximates the integral, so the per-row difference (the *delta*) measures how good that
approximation is, and rows whose relative delta exceeds a threshold are flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from twinaudit.attribution.gradients import GradientFunction
from twinaudit.vocabulary import ATTRIBUTION_BASELINES as BASELINES
from twinaudit.vocabulary import QUADRATURES as METHODS

#: Rows of ``X`` per call of the gradient function: each call carries ``rows × (n_steps + 2)``
#: points, so 512 rows × 52 points × 100 features is ~10 MB of float32 inputs.
INTERNAL_BATCH_SIZE = 512
#: A row is flagged when |delta| exceeds this share of |f(x) − f(x')|.
RELATIVE_DELTA_THRESHOLD = 0.05
#: Below this |f(x) − f(x')| the relative delta is taken against this floor instead, so a row
#: whose output barely moves is not flagged for a tiny absolute error.
DELTA_FLOOR = 1e-3


@dataclass(frozen=True)
class IntegratedGradientsResult:
    """Attributions of a batch of rows and their completeness check.

    Attributes
    ----------
    attributions : ndarray of shape (n_rows, n_features), float64
    outputs : ndarray of shape (n_rows,)
        ``f(x)``, the explained output at each row.
    baseline_outputs : ndarray of shape (n_rows,)
        ``f(x')`` at each row's baseline.
    deltas : ndarray of shape (n_rows,)
        ``sum(attributions) − (f(x) − f(x'))`` per row.
    relative_deltas : ndarray of shape (n_rows,)
        ``|delta| / max(|f(x) − f(x')|, DELTA_FLOOR)``.
    flagged : ndarray of shape (n_rows,), bool
        Rows whose relative delta exceeds ``threshold``.
    threshold : float
    method : str
    n_steps : int
    """

    attributions: np.ndarray
    outputs: np.ndarray
    baseline_outputs: np.ndarray
    deltas: np.ndarray
    relative_deltas: np.ndarray
    flagged: np.ndarray
    threshold: float
    method: str
    n_steps: int

    @property
    def relative_delta(self) -> float:
        """The run's relative delta: ``sum |delta| / sum |f(x) − f(x')|`` over rows.

        Pooled over rows, so that a row whose output hardly moves (a tiny denominator) cannot
        flag a whole run by itself; per-row flags are still counted.
        """
        change = np.abs(self.outputs - self.baseline_outputs).sum()
        return float(np.abs(self.deltas).sum() / max(change, DELTA_FLOOR))

    def completeness_summary(self) -> dict:
        """JSON-ready figures of the completeness check (no per-row arrays).

        ``flagged`` is the run's flag: its pooled :attr:`relative_delta` exceeds the threshold.
        """
        relative = self.relative_deltas
        return {
            "threshold": float(self.threshold),
            "relative_delta": self.relative_delta,
            "flagged": self.relative_delta > self.threshold,
            "max_abs_delta": float(np.abs(self.deltas).max(initial=0.0)),
            "median_row_relative_delta": float(np.median(relative)) if len(relative) else 0.0,
            "max_row_relative_delta": float(relative.max(initial=0.0)),
            "n_rows_flagged": int(self.flagged.sum()),
        }


def quadrature(method: str = "gausslegendre", n_steps: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Captum's integration points and weights on [0, 1].

    Parameters
    ----------
    method : {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", \
"riemann_trapezoid"}
    n_steps : int
        Number of points (> 1 for the Riemann rules, as in captum).

    Returns
    -------
    alphas, weights : ndarray of shape (n_steps,), float64

    Notes
    -----
    captum's ``riemann_trapezoid`` spaces its points ``1 / (n_steps − 1)`` apart but weighs
    them ``1 / n_steps`` (halved at the ends), so its weights sum to ``(n_steps − 1) / n_steps``
    rather than 1: attributions come out short by that factor and the completeness delta shows
    it. We reproduce the rule as captum defines it, so that the two agree.
    """
    if method not in METHODS:
        raise ValueError(f"unknown integration method {method!r} (expected one of {METHODS})")
    minimum = 1 if method == "gausslegendre" else 2
    if int(n_steps) != n_steps or n_steps < minimum:
        raise ValueError(f"n_steps must be an integer >= {minimum} for {method}, got {n_steps}")
    if method == "gausslegendre":
        nodes, node_weights = np.polynomial.legendre.leggauss(n_steps)
        # Gauss–Legendre lives on [-1, 1]; map it onto [0, 1] (half the width, half the weight).
        return 0.5 * (1 + nodes), 0.5 * node_weights
    weights = np.full(n_steps, 1 / n_steps)
    if method == "riemann_trapezoid":
        weights[[0, -1]] /= 2
        return np.linspace(0, 1, n_steps), weights
    start, stop = {"riemann_left": (0, 1 - 1 / n_steps),
                   "riemann_middle": (1 / (2 * n_steps), 1 - 1 / (2 * n_steps)),
                   "riemann_right": (1 / n_steps, 1)}[method]
    return np.linspace(start, stop, n_steps), weights


def resolve_baselines(baselines: str | np.ndarray, n_features: int, *,
                      X_train: np.ndarray | None = None) -> np.ndarray:
    """Turn a baseline name or row into a float32 row of ``n_features``.

    Parameters
    ----------
    baselines : "zeros", "train_mean", or array of shape (n_features,) or (1, n_features)
    n_features : int
    X_train : ndarray of shape (n_train, n_features), optional
        Required for ``"train_mean"``.
    """
    if isinstance(baselines, str):
        if baselines == "zeros":
            return np.zeros(n_features, dtype=np.float32)
        if baselines == "train_mean":
            if X_train is None:
                raise ValueError('baselines="train_mean" needs the training X (X_train=...)')
            X_train = np.asarray(X_train, dtype=np.float64)
            if X_train.ndim != 2 or X_train.shape[1] != n_features:
                raise ValueError(f"X_train has shape {X_train.shape}; expected "
                                 f"(n_rows, {n_features})")
            return X_train.mean(axis=0).astype(np.float32)
        raise ValueError(f"unknown baselines {baselines!r}: use one of {BASELINES} or a row "
                         f"of {n_features} values")
    row = np.asarray(baselines, dtype=np.float32)
    if row.ndim == 2 and row.shape[0] == 1:
        row = row[0]
    if row.ndim != 1 or row.shape[0] != n_features:
        raise ValueError(f"a baseline row must have {n_features} values (one per feature), "
                         f"got shape {np.shape(baselines)}")
    if not np.all(np.isfinite(row)):
        raise ValueError("the baseline row holds NaN or infinite values")
    return row


def integrated_gradients(
    gradient_function: GradientFunction,
    X: np.ndarray,
    baselines: str | np.ndarray = "zeros",
    *,
    X_train: np.ndarray | None = None,
    n_steps: int = 50,
    method: str = "gausslegendre",
    internal_batch_size: int = INTERNAL_BATCH_SIZE,
    threshold: float = RELATIVE_DELTA_THRESHOLD,
) -> IntegratedGradientsResult:
    """Integrated Gradients of the gradient function's output for every row of ``X``.

    Rows are flat: images and embedded sequences are flattened by the caller and reshaped
    inside the gradient function (see :mod:`twinaudit.attribution.image` and
    :mod:`twinaudit.attribution.text`).

    Parameters
    ----------
    gradient_function : callable
        ``X (m, d) float32 -> (f(X) (m,), dF/dX (m, d))``; see
        :func:`twinaudit.attribution.gradients.gradient_function`.
    X : array of shape (n_rows, n_features)
    baselines : "zeros", "train_mean", or array of shape (n_features,)
        One baseline row shared by every row.
    X_train : array of shape (n_train, n_features), optional
        For ``baselines="train_mean"``.
    n_steps : int
        Points of the quadrature rule.
    method : str
        Captum's name of the rule; ``"gausslegendre"`` is captum's default.
    internal_batch_size : int
        Rows of ``X`` per call of ``gradient_function``; bounds memory at
        ``internal_batch_size × (n_steps + 2)`` interpolation points.
    threshold : float
        Relative completeness delta above which a row is flagged.

    Returns
    -------
    IntegratedGradientsResult
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_rows, n_features), got shape {X.shape}")
    baseline = resolve_baselines(baselines, X.shape[1], X_train=X_train)
    alphas, weights = quadrature(method, n_steps)
    if internal_batch_size < 1:
        raise ValueError(f"internal_batch_size must be positive, got {internal_batch_size}")
    parts = [_attribute(gradient_function, X[start:start + internal_batch_size], baseline,
                        alphas, weights)
             for start in range(0, len(X), internal_batch_size)]
    attributions, outputs, baseline_outputs = (
        np.concatenate([part[index] for part in parts]) if parts else np.zeros((0,) + shape)
        for index, shape in enumerate([(X.shape[1],), (), ()])
    )
    return _with_completeness(attributions, outputs, baseline_outputs, threshold=threshold,
                              method=method, n_steps=n_steps)


def merge_results(parts: Sequence[tuple[np.ndarray, IntegratedGradientsResult]]
                  ) -> IntegratedGradientsResult:
    """Results computed on disjoint subsets of rows, put back together in row order.

    Explaining each row toward its own class means one gradient function (one target) per
    class, so a batch is attributed class by class; this undoes the grouping.

    Parameters
    ----------
    parts : sequence of (rows, result)
        ``rows`` (int array) are the positions, in the merged order, of ``result``'s rows; all
        ``rows`` together are a permutation of ``0 .. n − 1``. Every part used the same
        method, steps and threshold.
    """
    if not parts:
        raise ValueError("nothing to merge")
    order = np.concatenate([np.asarray(rows, dtype=np.int64) for rows, _ in parts])
    if not np.array_equal(np.sort(order), np.arange(len(order))):
        raise ValueError("the parts' rows must cover 0 .. n - 1, each once")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    arrays = {field.name: np.concatenate([getattr(result, field.name) for _, result in parts]
                                         )[inverse]
              for field in fields(IntegratedGradientsResult)
              if isinstance(getattr(parts[0][1], field.name), np.ndarray)}
    return replace(parts[0][1], **arrays)


def _attribute(gradient_function: GradientFunction, X: np.ndarray, baseline: np.ndarray,
               alphas: np.ndarray, weights: np.ndarray):
    """Attributions, f(x) and f(x') for one batch of rows, with one gradient call."""
    n_rows, n_features = X.shape
    n_steps = len(alphas)
    # Two extra points with zero weight, α = 1 and α = 0, give f(x) and f(x') from the same
    # call as the gradients, which completeness needs (for 50 steps, 4 % more points).
    all_alphas = np.concatenate([alphas, [1.0, 0.0]]).astype(np.float32)      # (s + 2,)
    difference = X - baseline                                                 # (n, d)
    # Step-major order, as captum concatenates: point k of row i sits at k · n + i. Written
    # in place into one buffer: the interpolation is memory-bound, temporaries double it.
    points = np.empty((n_steps + 2, n_rows, n_features), dtype=np.float32)    # (s + 2, n, d)
    np.multiply(all_alphas[:, None, None], difference[None], out=points)
    points += baseline
    outputs, gradients = gradient_function(points.reshape(-1, n_features))    # (m,), (m, d)
    outputs = np.asarray(outputs).reshape(n_steps + 2, n_rows)                # (s + 2, n)
    gradients = np.asarray(gradients).reshape(n_steps + 2, n_rows, n_features)  # (s + 2, n, d)
    # The weighted sum over steps, in float32 as captum does; einsum streams over the
    # gradients once (tensordot would first copy them into a matrix).
    integrated = np.einsum("k,knd->nd", weights.astype(np.float32),
                           gradients[:n_steps])                               # (n, d)
    return integrated * difference, outputs[n_steps], outputs[n_steps + 1]


def _with_completeness(attributions, outputs, baseline_outputs, *, threshold, method, n_steps):
    attributions = np.asarray(attributions, dtype=np.float64)
    outputs = np.asarray(outputs, dtype=np.float64)
    baseline_outputs = np.asarray(baseline_outputs, dtype=np.float64)
    change = outputs - baseline_outputs                                       # (n,)
    deltas = attributions.sum(axis=1) - change                                # (n,)
    relative = np.abs(deltas) / np.maximum(np.abs(change), DELTA_FLOOR)       # (n,)
    return IntegratedGradientsResult(
        attributions=attributions, outputs=outputs, baseline_outputs=baseline_outputs,
        deltas=deltas, relative_deltas=relative, flagged=relative > threshold,
        threshold=float(threshold), method=method, n_steps=int(n_steps),
    )
