"""Integrated Gradients of image classifiers (the digits CNN): heat maps per class, per twin.

The explained output is the log-softmax of a target class (see
:mod:`twinaudit.attribution.gradients`); every row is explained toward its own *true* class.
Images (n, h, w, c) are flattened to (n, h·w·c) for the one quadrature of
:func:`~twinaudit.attribution.integrated_gradients.integrated_gradients` and reshaped back
inside the gradient functions, so nothing here is a second Integrated Gradients. The default
baseline is a blank image (zeros: pixels are scaled to [0, 1], 0 being the background).

The heat map of class ``c`` is the mean attribution, over the explained test rows of true
class ``c``, toward class ``c`` (channels summed): where ink raises (positive) or lowers
(negative) the network's confidence in the digit it is looking at. Twins are compared by the
correlation of their heat maps, class by class, and by the per-row cosine of their
attributions — torch against Keras of one seed, beside two seeds of one framework.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from twinaudit.attribution._common import captum_check, rounded, sample_rows
from twinaudit.attribution.agreement import row_cosine, twin_agreement
from twinaudit.attribution.gradients import CLASS_TARGET, class_gradient_functions
from twinaudit.attribution.integrated_gradients import (
    INTERNAL_BATCH_SIZE,
    RELATIVE_DELTA_THRESHOLD,
    IntegratedGradientsResult,
    integrated_gradients,
    merge_results,
)
from twinaudit.attribution.torch_bridge import image_captum_attributions

if TYPE_CHECKING:
    from twinaudit.data import Dataset
    from twinaudit.frameworks.base import Twin

#: Rows on which our Integrated Gradients is checked against captum's in every run.
N_CAPTUM_CHECK_ROWS = 100
#: The figures of :func:`heat_map_agreement` averaged over twin pairs.
AGREEMENT_FIGURES = ("heat_map_pearson_mean", "heat_map_pearson_min", "heat_map_cosine_mean",
                     "row_cosine_median", "row_cosine_p5")


def image_attributions(twin: Twin, images: np.ndarray, targets: np.ndarray, *,
                       baselines: str | np.ndarray = "zeros",
                       X_train: np.ndarray | None = None, n_steps: int = 50,
                       method: str = "gausslegendre",
                       internal_batch_size: int = INTERNAL_BATCH_SIZE,
                       threshold: float = RELATIVE_DELTA_THRESHOLD
                       ) -> IntegratedGradientsResult:
    """Integrated Gradients of each image toward its own target class.

    Parameters
    ----------
    twin : Twin
        A classifier on images (any number of classes).
    images : array of shape (n_rows, h, w, c)
    targets : int array of shape (n_rows,)
        The class each row is explained toward.
    baselines : "zeros", "train_mean" or array of h·w·c values
        ``"zeros"`` is a blank image; ``"train_mean"`` the mean training image (needs
        ``X_train``, images or flattened).
    n_steps, method, internal_batch_size, threshold
        As in :func:`~twinaudit.attribution.integrated_gradients.integrated_gradients`.

    Returns
    -------
    IntegratedGradientsResult
        Attributions of shape (n_rows, h·w·c), flattened in (h, w, c) order, rows in the
        order given.
    """
    images = np.asarray(images, dtype=np.float32)
    targets = np.asarray(targets)
    if images.ndim != 4 or len(targets) != len(images):
        raise ValueError(f"expected images (n, h, w, c) and one target per image, got shapes "
                         f"{images.shape} and {targets.shape}")
    flat = images.reshape(len(images), -1)
    if X_train is not None:
        X_train = np.asarray(X_train).reshape(len(X_train), -1)
    per_class = class_gradient_functions(twin)
    # One target per gradient function: rows are attributed class by class, then put back.
    parts = []
    for target in np.unique(targets):
        rows = np.flatnonzero(targets == target)
        parts.append((rows, integrated_gradients(
            per_class(int(target)), flat[rows], baselines, X_train=X_train, n_steps=n_steps,
            method=method, internal_batch_size=internal_batch_size, threshold=threshold)))
    if not parts:
        raise ValueError("no images to attribute")
    return merge_results(parts)


def class_heat_maps(attributions: np.ndarray, labels: np.ndarray, n_classes: int,
                    image_shape: tuple[int, int, int]) -> np.ndarray:
    """Mean attribution per pixel over the rows of each class, channels summed.

    Returns
    -------
    ndarray of shape (n_classes, h, w)
        NaN for a class without rows.
    """
    height, width, channels = image_shape
    pixels = np.asarray(attributions, dtype=np.float64).reshape(-1, height, width, channels
                                                               ).sum(axis=3)
    maps = np.full((n_classes, height, width), np.nan)
    for target in range(n_classes):
        rows = labels == target
        if rows.any():
            maps[target] = pixels[rows].mean(axis=0)
    return maps


def heat_map_agreement(first: np.ndarray, second: np.ndarray) -> dict:
    """Per-class Pearson correlation and cosine similarity of two twins' heat maps.

    Parameters
    ----------
    first, second : arrays of shape (n_classes, h, w)
        NaN maps (classes without rows) are left out.
    """
    first = np.asarray(first, dtype=np.float64).reshape(len(first), -1)
    second = np.asarray(second, dtype=np.float64).reshape(len(second), -1)
    present = ~(np.isnan(first).any(axis=1) | np.isnan(second).any(axis=1))
    cosine = np.full(len(first), np.nan)
    pearson = np.full(len(first), np.nan)
    cosine[present] = row_cosine(first[present], second[present])
    # Pearson's r is the cosine of the centred maps.
    pearson[present] = row_cosine(first[present] - first[present].mean(axis=1, keepdims=True),
                                  second[present] - second[present].mean(axis=1,
                                                                         keepdims=True))
    return {
        "heat_map_pearson": [None if np.isnan(value) else float(value) for value in pearson],
        "heat_map_cosine": [None if np.isnan(value) else float(value) for value in cosine],
        "heat_map_pearson_mean": _nan_stat(np.nanmean, pearson),
        "heat_map_pearson_min": _nan_stat(np.nanmin, pearson),
        "heat_map_cosine_mean": _nan_stat(np.nanmean, cosine),
    }


def _nan_stat(statistic, values: np.ndarray) -> float | None:
    return float(statistic(values)) if np.isfinite(values).any() else None


def image_attribution_audit(
    twins: Mapping[tuple[str, int], Twin],
    dataset: Dataset,
    *,
    n_rows: int | None = 2000,
    n_steps: int = 50,
    integration_method: str = "gausslegendre",
    baselines: str = "zeros",
    random_state: int = 0,
) -> dict:
    """Heat maps per class for every image-classifier twin, and how the twins' maps agree.

    Parameters
    ----------
    twins : mapping of (framework, seed) to Twin
    dataset : Dataset
        Images (n, h, w, c) with ``n_classes`` classes; rows come from ``dataset.test``.
    n_rows : int or None
        A seeded sample of test rows; None explains every test row.
    n_steps, integration_method : int, str
        Captum's quadrature.
    baselines : "zeros" or "train_mean"
        A blank image, or the mean training image.
    random_state : int
        Seeds the row sample.

    Returns
    -------
    dict
        JSON-ready, ``kind = "image"``: ``settings``, ``classes``, ``image_shape`` and under
        ``methods.integrated_gradients``: per twin (``"framework/seed"``) its heat maps
        (n_classes × h × w) and completeness, the ``agreement`` between twins, and
        ``captum_check``.
    """
    if not twins:
        raise ValueError("no twins to audit")
    rows = sample_rows(len(dataset.test), n_rows, random_state)
    images = np.ascontiguousarray(dataset.test.X[rows], dtype=np.float32)
    labels = np.asarray(dataset.test.y[rows])
    # (h, w, c): the data set's images are (n, h, w, c).
    image_shape = cast(tuple[int, int, int], tuple(int(size) for size in images.shape[1:]))
    n_classes = int(dataset.n_classes)
    options: dict[str, Any] = {"baselines": baselines, "X_train": dataset.train.X,
                               "n_steps": n_steps, "method": integration_method}

    entries, attributions = {}, {}
    for (framework, seed), twin in twins.items():
        started = time.perf_counter()
        result = image_attributions(twin, images, labels, **options)
        maps = class_heat_maps(result.attributions, labels, n_classes, image_shape)
        attributions[framework, seed] = (result.attributions, maps)
        entries[f"{framework}/{seed}"] = {
            "status": "ok", "seconds": round(time.perf_counter() - started, 4),
            "n_rows": int(len(rows)), "completeness": result.completeness_summary(),
            "heat_maps": [None if np.isnan(m).any() else m.tolist() for m in maps],
        }

    def compare(first, second) -> dict:
        cosine = row_cosine(first[0], second[0])
        return {**heat_map_agreement(first[1], second[1]),
                "row_cosine_median": float(np.median(cosine)),
                "row_cosine_p5": float(np.percentile(cosine, 5)),
                "n_rows": int(len(cosine))}

    n_check = min(N_CAPTUM_CHECK_ROWS, len(rows))

    def with_captum(twin: Twin) -> tuple[np.ndarray, np.ndarray]:
        ours = image_attributions(twin, images[:n_check], labels[:n_check], **options)
        baseline = (np.zeros(image_shape, np.float32) if baselines == "zeros" else
                    np.asarray(dataset.train.X, np.float32).mean(axis=0))
        return ours.attributions, image_captum_attributions(
            twin, images[:n_check], baseline, labels[:n_check], n_steps=n_steps,
            method=integration_method)

    counts = np.bincount(labels, minlength=n_classes)
    return rounded({
        "kind": "image",
        "target": CLASS_TARGET,
        "settings": {
            "split": "test", "n_rows": int(len(rows)), "n_rows_available": len(dataset.test),
            "random_state": int(random_state), "n_steps": int(n_steps),
            "integration_method": integration_method,
            "baselines": {"zeros": "zeros (a blank image)",
                          "train_mean": "train_mean (the mean training image)"}.get(
                              baselines, baselines),
            "relative_delta_threshold": RELATIVE_DELTA_THRESHOLD,
            "explained_class": "each row's true class",
        },
        "image_shape": list(image_shape),
        "classes": [str(c) for c in range(n_classes)],
        "rows_per_class": [int(count) for count in counts],
        "methods": {"integrated_gradients": {
            "twins": entries,
            "agreement": twin_agreement(attributions, compare=compare,
                                        figures=AGREEMENT_FIGURES),
            "captum_check": captum_check(twins, with_captum, n_check),
        }},
    })
