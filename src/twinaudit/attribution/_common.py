"""What the tabular, image and text attribution drivers share: row samples, rounding, the
check of our Integrated Gradients against captum's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from twinaudit.attribution.agreement import compare_attributions

if TYPE_CHECKING:
    from twinaudit.frameworks.base import Twin


def rounded(value, digits: int = 6):
    """Floats to ``digits`` significant digits, recursively: results.json stays readable and
    small, and no audit figure is meaningful beyond float32's ~7 digits anyway."""
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item, digits) for item in value]
    if isinstance(value, float | np.floating):
        return float(f"{value:.{digits}g}") if np.isfinite(value) else None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def sample_rows(n_available: int, n_rows: int | None, random_state: int) -> np.ndarray:
    """A seeded, sorted sample of ``n_rows`` row indices (every row for None or more)."""
    if n_rows is None or n_rows >= n_available:
        return np.arange(n_available)
    if n_rows < 1:
        raise ValueError(f"n_rows must be positive or None (all rows), got {n_rows}")
    # Sorted, so the sample keeps the file's order and is the same for every twin.
    return np.sort(np.random.default_rng(random_state).choice(n_available, n_rows,
                                                              replace=False))


def captum_check(twins: Mapping[tuple[str, int], Twin],
                 attribute: Callable[[Twin], tuple[np.ndarray, np.ndarray]],
                 n_rows: int) -> dict:
    """Compare our attributions with captum's on the first twin that has a torch module
    (captum explains torch modules only).

    Parameters
    ----------
    twins : mapping of (framework, seed) to Twin
    attribute : callable
        ``twin -> (ours, captum)``, two arrays of shape (n_rows, n_features) for the
        same rows and target.
    n_rows : int
        Rows compared (recorded).
    """
    torch_keys = sorted(key for key, twin in twins.items() if twin.torch_module() is not None)
    if not torch_keys:
        return {"status": "not_applicable", "reason": "no torch twin to run captum on"}
    key = torch_keys[0]
    ours, captum = attribute(twins[key])
    difference = compare_attributions(ours, captum)
    return {"status": "ok", "twin": f"{key[0]}/{key[1]}", "n_rows": n_rows,
            "max_abs_difference": float(np.abs(ours - captum).max()),
            "cosine_p5": difference["cosine_p5"]}
