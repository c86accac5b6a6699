"""Seeded train / validation / test row indices for data sets that are arrays, not tables.

The same rule as the tabular pipeline (:func:`twinaudit.data.build_dataset`): one generator
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
    from twinaudit.data import _split, _subsample

    rng = np.random.default_rng(data.split_seed)
    rows = pd.DataFrame({"row": np.arange(n_rows)})
    train, test = _split(rows, data.test_fraction, rng)
    train, validation = _split(train, data.validation_fraction, rng)
    train = _subsample(train, data.max_train_rows, rng)
    test = _subsample(test, data.max_test_rows, rng)
    splits = {"train": train, "validation": validation, "test": test}
    for name, frame in splits.items():
        if len(frame) == 0:
            raise TwinauditError(f"{origin}: the {name} split is empty (too few rows)")
    return {name: frame["row"].to_numpy() for name, frame in splits.items()}
