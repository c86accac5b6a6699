"""The twin proof's arithmetic layers: exact (float64) agreement, and the float32 rounding floor.

Both twins start from the same numpy-drawn weights and are fed the same rows, so every
difference between them is either float rounding or a difference in settings. The proof
separates the two by running the same short piece of training in both frameworks twice:

**Exact layer (float64, the verdict).** Step-0 outputs on test rows, the loss gradient of every
tensor on the first batch, the parameters after one optimizer step, and after five steps with
the run's own batches and weights. For a stage with values ``a`` (reference) and ``b``::

    relative difference = max |a − b| / max |a|

where, for the steps, ``a`` and ``b`` are the *updates* ``p_t − p_0`` (both twins share
``p_0``), so a difference of 1e-4 in the learning rate reads 1e-4, not 1e-4 × lr / |p|. In
float64 identical settings agree to ~1e-15 (rounding, and a few ulps of Adam's
amplification where a gradient entry cancels to a few ε); any difference in loss, reduction,
update rule, layout or batch order is at least ~1e-8. The tolerance, 1e-10, sits between.

**Float32 floor (the audit's own precision).** Per stage and tensor, the float32 difference
between the twins is compared with the frameworks' own float32-vs-float64 errors on the same
stage::

    ratio = max |a₃₂ − b₃₂| / √(e_a · e_b),   e_x = max(max |x₃₂ − x₆₄|, ε₃₂ · max |a₆₄|)

By the triangle inequality ``max |a₃₂ − b₃₂| ≤ e_a + e_b + max |a₆₄ − b₆₄|``; with the exact
layer passed, the ratio is at most ``√(e_a/e_b) + √(e_b/e_a)``: small while the two
frameworks err by the same order, as two implementations of the same float32 algorithm do
(measured: ratios ≤ 4 on every shipped network). A float32-only fault in one framework
(say, its inputs rounded through float16) makes its own error orders larger and the ratio
about ``√(e_faulty / e_clean)``, far above :data:`FLOOR_MULTIPLE` — a fault the exact layer
cannot see. (The geometric mean, not the smaller error, keeps one framework's unusually
exact tensor from reading as a fault; the floor of one float32 ulp of the tensor's scale
keeps an error that happens to be zero from dividing.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import combinations
from typing import Any

import numpy as np

from twinaudit.frameworks import Twin, twin_class
from twinaudit.frameworks.schedule import Schedule, batch_order, batch_weights
from twinaudit.nets import Network

#: float64 relative difference above which the twins' arithmetic differs.
EXACT_TOLERANCE = 1e-9
#: How many times the smaller framework's own float32 error the cross difference may reach.
FLOOR_MULTIPLE = 10.0
#: Optimizer steps of the multi-step stage, and test rows of the output stage.
N_STEPS = 5
N_OUTPUT_ROWS = 256
#: The stages, in the order a difference shows up in them.
STAGES = ("outputs", "gradients", "one_step", "five_steps")

#: framework -> twin class; a test hands in a deliberately altered twin for one framework.
TwinFactory = Callable[[str], type[Twin]]
Tensors = dict[str, np.ndarray]
#: One training batch: inputs, labels and the row weights (None: unweighted).
Batch = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def trace(twin: Twin, X_test: np.ndarray, batches: list[Batch]) -> dict[str, Tensors]:
    """Every stage's tensors of one initialised twin: outputs, gradients, steps 1 and 5."""
    start = twin.get_weights()
    traced = {"outputs": {"output": np.asarray(twin.forward(X_test), np.float64)},
              "gradients": twin.loss_gradients(*batches[0])}
    for step, batch in enumerate(batches, start=1):
        twin.train_step(*batch)
        if step in (1, N_STEPS):
            name = "one_step" if step == 1 else "five_steps"
            traced[name] = {key: value.astype(np.float64) - start[key].astype(np.float64)
                            for key, value in twin.get_weights().items()}
    return traced


def first_batches(seed: int, schedule: Schedule, X: np.ndarray, y: np.ndarray,
                  sample_weight: np.ndarray | None) -> list[Batch]:
    """The run's first :data:`N_STEPS` batches with their weights, in fit's order: epoch 0's,
    then epoch 1's on a tiny training set; a batch whose weights sum to zero is skipped, as
    fit skips it."""
    batches: list[Batch] = []
    for epoch in range(N_STEPS):
        for rows in batch_order(seed, epoch, len(y), schedule.batch_size):
            weights = None if sample_weight is None else batch_weights(sample_weight[rows])
            if sample_weight is None or weights is not None:
                batches.append((X[rows], y[rows], weights))
            if len(batches) == N_STEPS:
                return batches
    return batches


def relative_difference(reference: Mapping[str, np.ndarray],
                        other: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Per tensor, max |a − b| / max |a|; a tensor only one side has is infinitely apart."""
    differences = {}
    for name in sorted(set(reference) | set(other)):
        if name not in reference or name not in other or \
                reference[name].shape != other[name].shape:
            differences[name] = float("inf")
            continue
        a, b = reference[name], other[name]
        scale = float(np.abs(a).max(initial=0.0))
        gap = float(np.abs(a - b).max(initial=0.0))
        differences[name] = gap / scale if scale > 0 else (0.0 if gap == 0 else float("inf"))
    return differences


def floor_ratios(cross32: tuple[Tensors, Tensors], exact: tuple[Tensors, Tensors]
                 ) -> dict[str, float]:
    """Per tensor, the float32 cross difference over the geometric mean of the frameworks' own
    float32 errors (each at least one float32 ulp of the tensor's scale)."""
    (a32, b32), (a64, b64) = cross32, exact
    ratios = {}
    for name in sorted(set(a32) | set(b32)):
        if not all(name in tensors for tensors in (a32, b32, a64, b64)) or \
                a32[name].shape != b32[name].shape:
            ratios[name] = float("inf")
            continue
        ulp = float(np.finfo(np.float32).eps) * float(np.abs(a64[name]).max(initial=0.0))
        own = [max(float(np.abs(x32[name] - x64[name]).max(initial=0.0)), ulp)
               for x32, x64 in ((a32, a64), (b32, b64))]
        cross = float(np.abs(a32[name] - b32[name]).max(initial=0.0))
        ratios[name] = cross / max(float(np.sqrt(own[0] * own[1])), np.finfo(np.float64).tiny)
    return ratios


def _worst(values: dict[str, float]) -> tuple[str | None, float]:
    if not values:
        return None, 0.0
    name = max(values, key=lambda key: values[key])
    return name, values[name]


def prove(network: Network, schedule: Schedule, seed: int, *, X_test: np.ndarray,
          train: tuple[np.ndarray, np.ndarray, np.ndarray | None], frameworks: tuple[str, str],
          build: TwinFactory = twin_class) -> dict[str, Any]:
    """Both arithmetic layers for one seed.

    Parameters
    ----------
    network : Network
        The network as the proof runs it. The audit passes it without dropout: each framework
        draws its own masks, so with dropout on the twins would differ by design.
    train : (X, y, sample_weight or None)
        The run's training data; the steps use its first batches.
    build : callable
        framework -> twin class (the registry's by default).

    Returns
    -------
    dict
        ``{"seed", "exact": {stage: {"per_tensor", "max", "worst_tensor", "passed"}},
        "float32": {stage: {"per_tensor" (ratios), "cross", "max_ratio", "worst_tensor",
        "passed"}}}``.
    """
    return prove_pairs(network, schedule, seed, X_test=X_test, train=train,
                       frameworks=frameworks, build=build)[frameworks]


def prove_pairs(network: Network, schedule: Schedule, seed: int, *, X_test: np.ndarray,
                train: tuple[np.ndarray, np.ndarray, np.ndarray | None],
                frameworks: tuple[str, ...], build: TwinFactory = twin_class
                ) -> dict[tuple[str, str], dict[str, Any]]:
    """:func:`prove` for every pair of ``frameworks`` (in their order), each traced once."""
    batches = first_batches(seed, schedule, *train)
    X_probe = X_test[:N_OUTPUT_ROWS]
    traces = {framework: {precision: trace(build(framework)(
        network, schedule, random_state=seed, precision=precision).initialize(),
        X_probe, batches) for precision in ("float64", "float32")} for framework in frameworks}
    return {(first, second): _compare(seed, traces[first], traces[second])
            for first, second in combinations(frameworks, 2)}


def _compare(seed: int, reference: dict[str, dict[str, Tensors]],
             other: dict[str, dict[str, Tensors]]) -> dict[str, Any]:
    """Both layers' figures of two frameworks' traces (see the module doc)."""
    exact, float32 = {}, {}
    for stage in STAGES:
        a64, b64 = reference["float64"][stage], other["float64"][stage]
        a32, b32 = reference["float32"][stage], other["float32"][stage]
        differences = relative_difference(a64, b64)
        worst, largest = _worst(differences)
        exact[stage] = {"per_tensor": differences, "max": largest, "worst_tensor": worst,
                        "passed": bool(largest <= EXACT_TOLERANCE)}
        ratios = floor_ratios((a32, b32), (a64, b64))
        worst, largest = _worst(ratios)
        float32[stage] = {"per_tensor": ratios, "cross": relative_difference(a32, b32),
                          "max_ratio": largest, "worst_tensor": worst,
                          "passed": bool(largest <= FLOOR_MULTIPLE)}
    return {"seed": seed, "exact": exact, "float32": float32}


def summarise(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """The proof over all seeds: the verdict, and the first stage and layer that failed."""
    exact = {stage: {"max": max(row["exact"][stage]["max"] for row in per_seed),
                     "passed": all(row["exact"][stage]["passed"] for row in per_seed)}
             for stage in STAGES}
    float32 = {stage: {"max_ratio": max(row["float32"][stage]["max_ratio"] for row in per_seed),
                       "passed": all(row["float32"][stage]["passed"] for row in per_seed)}
               for stage in STAGES}
    caught = next(((layer, stage) for layer, stages in (("exact", exact), ("float32", float32))
                   for stage in STAGES if not stages[stage]["passed"]), None)
    if caught is None:
        text = (f"identical: float64 agreement within {max(s['max'] for s in exact.values()):.1e}"
                f" (tolerance {EXACT_TOLERANCE:g}); float32 differences within "
                f"{max(s['max_ratio'] for s in float32.values()):.2g}× the frameworks' own "
                f"rounding (limit {FLOOR_MULTIPLE:g}×)")
    else:
        layer, stage = caught
        row = next(r for r in per_seed if not r[layer][stage]["passed"])
        figure = (f"relative difference {row['exact'][stage]['max']:.2e} > {EXACT_TOLERANCE:g}"
                  if layer == "exact" else
                  f"{row['float32'][stage]['max_ratio']:.3g}× the own rounding > "
                  f"{FLOOR_MULTIPLE:g}×")
        text = (f"FAIL: the twins differ at {stage.replace('_', ' ')} ({layer} layer, seed "
                f"{row['seed']}, tensor {row[layer][stage]['worst_tensor']}: {figure})")
    return {"passed": caught is None, "caught_by": None if caught is None else
            {"layer": caught[0], "stage": caught[1]}, "text": text,
            "exact_tolerance": EXACT_TOLERANCE, "floor_multiple": FLOOR_MULTIPLE,
            "exact": exact, "float32": float32}
