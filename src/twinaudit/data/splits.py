"""Seeded train / validation / test row indices for data sets that are arrays, not tables.

The same rule as the tabular pipeline (:func:`twinaudit.data.tabular.build_dataset`): one generator
seeded by ``[data] split_seed`` draws the test rows, then the validation rows, then the
``max_train_rows`` / ``max_test_rows`` subsets, in that order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection


def split_indices(n_rows: int, data: DataSection, *, origin: str) -> dict[str, np.ndarray]:
    """Sorted row indices of the train, validation and test splits."""
    rng = np.random.default_rng(data.split_seed)
    rows = pd.DataFrame({"row": np.arange(n_rows)})
    train, test = held_out_split(rows, data.test_fraction, rng)
    train, validation = held_out_split(train, data.validation_fraction, rng)
    train = subsample(train, data.max_train_rows, rng)
    test = subsample(test, data.max_test_rows, rng)
    splits = {"train": train, "validation": validation, "test": test}
    for name, frame in splits.items():
        if len(frame) == 0:
            raise TwinauditError(f"{origin}: the {name} split is empty (too few rows)")
    return {name: frame["row"].to_numpy() for name, frame in splits.items()}


def held_out_split(frame: pd.DataFrame, fraction: float, rng: np.random.Generator,
                   strata: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, held out): a seeded ``fraction`` of the rows held out, both in file order.

    With ``strata`` (an integer per row, e.g. label × sensitive group), the fraction is held
    out of every stratum: ``floor(fraction · size + u)`` of its rows with ``u`` uniform on
    [0, 1) per stratum, so each stratum's expected share is exact, a stratum of one row lands
    in either part with the right odds, and a 40-row group gets its 8 validation rows rather
    than the 2 an unstratified draw can give it.
    """
    order = rng.permutation(len(frame))
    if strata is None:
        n_held_out = int(round(fraction * len(frame)))
        return frame.iloc[np.sort(order[n_held_out:])], frame.iloc[np.sort(order[:n_held_out])]
    codes = np.unique(np.asarray(strata), return_inverse=True)[1].reshape(-1)[order]
    sizes = np.bincount(codes)
    to_hold = np.floor(fraction * sizes + rng.random(len(sizes))).astype(np.int64)
    rank = pd.Series(codes).groupby(codes).cumcount().to_numpy()  # rank within the stratum
    held = rank < to_hold[codes]
    return frame.iloc[np.sort(order[~held])], frame.iloc[np.sort(order[held])]


def subsample(frame: pd.DataFrame, max_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``max_rows`` seeded rows in file order (0: all of them)."""
    if max_rows == 0 or len(frame) <= max_rows:
        return frame
    return frame.iloc[np.sort(rng.permutation(len(frame))[:max_rows])]
