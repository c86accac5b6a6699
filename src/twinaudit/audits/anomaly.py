"""Anomaly flags from an autoencoder twin's reconstruction error.

A row is flagged when its reconstruction error (``Twin.decision_function``) exceeds a
threshold set on the validation split: the ``flag_quantile`` quantile of the validation
errors (0.95: about 5% of ordinary rows flagged). Each twin gets its own threshold, from its
own errors. The fairness audit then compares flag rates across groups (``selection_rate``
is the flag rate).
"""

from __future__ import annotations

import numpy as np

from twinaudit.twins import Twin


def flag_threshold(twin: Twin, X_validation: np.ndarray, quantile: float) -> float:
    """The ``quantile`` of the twin's reconstruction errors on the validation rows."""
    return float(np.quantile(twin.decision_function(X_validation), quantile))


def flags(twin: Twin, X: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Each row's reconstruction error and whether it exceeds ``threshold`` (int 0/1)."""
    errors = twin.decision_function(X)
    return errors, (errors > threshold).astype(np.int64)
