"""Training one twin: the unit of work the engine runs for every (variant, framework, seed)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from twinaudit.frameworks import Twin, twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import Network


class TrainingData(NamedTuple):
    """The training and validation splits, shared once with the engine's workers."""

    X: np.ndarray
    y: np.ndarray
    X_validation: np.ndarray
    y_validation: np.ndarray


def train_twin(framework: str, network: Network, schedule: Schedule, seed: int, threads: int,
               data: TrainingData, sample_weight: np.ndarray | None) -> Twin:
    """Fit the ``framework`` twin of ``seed``: a pure function of its arguments (the network
    has no dropout, or is never cached: see :mod:`twinaudit.frameworks.cache`), so whichever
    process runs it returns the same twin."""
    cls = twin_class(framework)
    twin = cls(network, schedule, random_state=seed)
    with cls.thread_limit(threads):
        twin.fit(data.X, data.y, sample_weight, validation=(data.X_validation,
                                                            data.y_validation))
    return twin
