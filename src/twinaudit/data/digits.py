"""scikit-learn's handwritten digits (1,797 8×8 grey images, ten classes), shipped with it.

Pixels (0–16) are scaled to [0, 1] and kept as images, channels-last: (n, 8, 8, 1) float32,
the same array for both twins. The label is the digit.

Fairness needs groups, and the digits have no people in them: the sensitive feature is the
*true digit* itself. A fairness audit over it is a per-class performance audit — how unequal
the twins' recall is across digits — not a statement about any group of people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twinaudit.data.dataset import Dataset, Split
from twinaudit.data.splits import split_indices
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection

SENSITIVE = "digit"
INFO = {
    "source": "scikit-learn load_digits(): the test set of the UCI Optical Recognition of "
              "Handwritten Digits data set (Alpaydin & Kaynak, 1998)",
    "licence": "CC BY 4.0 (UCI)",
    "split": "seeded test and validation splits (data.test_fraction, data.validation_fraction)",
    "caveat": "The group is the true digit: per-class performance disparity, not fairness "
              "towards people.",
}


def load(data: DataSection) -> Dataset:
    """The digits as a :class:`Dataset` of (n, 8, 8, 1) images and ten classes."""
    from sklearn.datasets import load_digits

    if list(data.sensitive_features) != [SENSITIVE]:
        raise TwinauditError(f"digits: the only sensitive feature is '{SENSITIVE}' "
                             f"(got {data.sensitive_features})")
    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[..., None]  # (n, 8, 8, 1)
    labels = bunch.target.astype(np.int64)
    splits = split_indices(len(labels), data, origin="digits")

    def to_split(rows: np.ndarray) -> Split:
        return Split(X=images[rows], y=labels[rows],
                     sensitive_features=pd.DataFrame({SENSITIVE: labels[rows].astype(str)}),
                     row_id=rows.astype(np.int64))

    return Dataset(
        name="digits", train=to_split(splits["train"]),
        validation=to_split(splits["validation"]), test=to_split(splits["test"]),
        feature_names=[f"pixel_{row}_{column}" for row in range(8) for column in range(8)],
        label_name="digit", positive_label="", n_classes=10,
        info={**INFO, "split_seed": data.split_seed, "sensitive_as_inputs": False},
    )
