"""SimpleNet's tiny synthetic data set: three numeric features, a group, a binary outcome.

Generated in numpy from a fixed seed (``GENERATOR_SEED``), so every install has the same
2,000 rows; ``[data] split_seed`` only chooses the splits. The rules, chosen so a fairness
audit has something to find:

- ``group`` is "B" for about 30% of rows, "A" otherwise;
- ``x1, x2, x3`` are standard normal, and group B's ``x1`` is shifted by +0.8 (the groups
  look different in the inputs, as real groups often do);
- ``P(outcome = 1) = sigmoid(1.5·x1 − 1.0·x2 + 0.5·x3 − 1.0·[group = B])``: at equal inputs,
  B's rows are less often positive (a label bias the model can learn through ``x1``).

The group is not a model input (``sensitive_as_inputs = false`` in ``audits/simplenet.toml``),
so the network is 3 → 5 → 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twinaudit.data.source import SourceTable

GENERATOR_SEED = 20140601
N_ROWS = 2000
FEATURES = ["x1", "x2", "x3"]


def generate(n_rows: int = N_ROWS, seed: int = GENERATOR_SEED) -> pd.DataFrame:
    """The synthetic rows, as a table (see the module docstring for the rules)."""
    rng = np.random.default_rng(seed)
    in_b = rng.random(n_rows) < 0.3
    features = rng.normal(size=(n_rows, 3))
    features[in_b, 0] += 0.8
    logit = features @ np.array([1.5, -1.0, 0.5]) - 1.0 * in_b
    outcome = rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))
    frame = pd.DataFrame(features, columns=FEATURES)
    frame["group"] = np.where(in_b, "B", "A")
    frame["outcome"] = outcome.astype(int).astype(str)
    return frame


def load_source() -> SourceTable:
    return SourceTable(
        name="simplenet", train=generate(), test=None, label="outcome", positive="1",
        numeric_columns=FEATURES, categorical_columns=["group"], origin="synthetic simplenet",
        info={"source": f"twinaudit.data.synthetic, numpy seed {GENERATOR_SEED}, {N_ROWS} rows",
              "licence": "generated (no licence needed)",
              "split": "seeded test and validation splits"},
    )
