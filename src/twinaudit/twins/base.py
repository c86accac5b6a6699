"""What every twin is: a scikit-learn estimator driven by the shared schedule.

A framework supplies six small methods (build, one training step, the network's output,
get/set weights in the canonical layout, save/load); everything else — initial weights,
batching, weighting, early stopping, probabilities, anomaly scores — is written once here and
in :mod:`twinaudit.train`.

The network's task decides what the estimator answers. A classification twin is a
scikit-learn classifier: ``decision_function`` gives the logits, ``predict_proba`` their
softmax. A reconstruction twin (the autoencoder) has ``decision_function`` give each row's
anomaly score, its mean squared reconstruction error (higher is more unusual, as for
scikit-learn's outlier detectors' ``score_samples`` negated), and ``forward`` the
reconstruction itself; it has no ``predict_proba``.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from twinaudit.nets import CLASSIFICATION, RECONSTRUCTION, Network, initial_weights, \
    network_from_dict, network_to_dict
from twinaudit.train import EpochCallback, Schedule, run_schedule


class Twin(ClassifierMixin, BaseEstimator):
    """A network whose spec, initial weights and training are framework-neutral.

    Parameters
    ----------
    network : Network
        The network; both twins of a pair are built from the same spec.
    schedule : Schedule, optional
        The training settings; defaults to ``Schedule()``.
    random_state : int
        Seeds the initial weights and the batch order; equal seeds give identical twins.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classification twins only.
    history_ : dict
        Per-epoch validation figures, weight snapshots and training seconds (after ``fit``).
    """

    framework: ClassVar[str]

    def __init__(self, network: Network | None = None, schedule: Schedule | None = None,
                 random_state: int = 0):
        self.network = network
        self.schedule = schedule
        self.random_state = random_state

    # -- the shared part -------------------------------------------------------------------

    def initialize(self) -> Twin:
        """Build the network with the numpy-drawn initial weights of ``random_state``."""
        if self.network.task == CLASSIFICATION:
            self.classes_ = np.arange(self.network.output_size)
        self.n_features_in_ = int(np.prod(self.network.input_shape))
        self._build(initial_weights(self.network, self.random_state))
        return self

    def fit(self, X, y=None, sample_weight=None, *, validation=None,
            on_epoch: EpochCallback | None = None) -> Twin:
        """Train from the initial weights with the shared schedule.

        Parameters
        ----------
        X : array of shape (n_rows, *network.input_shape)
        y : array of shape (n_rows,), class labels
            Ignored by a reconstruction twin (its target is ``X``).
        sample_weight : array of shape (n_rows,), optional
            Row weights; the loss of a batch is sum(w·l) / sum(w) in both frameworks.
        validation : (X, y), optional
            For the per-epoch validation loss and early stopping.
        """
        X = np.asarray(X, dtype=self.network.input_dtype)
        # The shared schedule indexes y alongside X; a reconstruction ignores it.
        y = np.zeros(len(X), np.int64) if y is None else np.asarray(y, dtype=np.int64)
        if len(X) != len(y):
            raise ValueError("X and y must have the same number of rows")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float32)
            if len(sample_weight) != len(y):
                raise ValueError("sample_weight must have one entry per row of X")
            if np.any(sample_weight < 0) or not np.all(np.isfinite(sample_weight)):
                raise ValueError("sample_weight must be finite and non-negative")
        self.initialize()
        self.history_ = run_schedule(
            self, X, y, sample_weight, schedule=self.schedule or Schedule(),
            seed=self.random_state, validation=validation, on_epoch=on_epoch,
        )
        return self

    def decision_function(self, X) -> np.ndarray:
        """Logits (n_rows, n_classes), float32; for a reconstruction, each row's mean squared
        reconstruction error (n_rows,), float64."""
        if self.network.task == RECONSTRUCTION:
            return reconstruction_error(self.forward(X), X)
        return self.forward(X)

    def predict_proba(self, X) -> np.ndarray:
        self._require_classifier("predict_proba")
        logits = self.decision_function(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        self._require_classifier("predict")
        return self.decision_function(X).argmax(axis=1)

    def _require_classifier(self, method: str) -> None:
        if self.network.task != CLASSIFICATION:
            raise AttributeError(f"{method} is for classification twins; a "
                                 f"{self.network.task} twin scores rows with decision_function")

    def save(self, path: str | Path) -> Path:
        """Save the weights (framework format) and a JSON sidecar describing the twin."""
        path = Path(path).with_suffix(self.checkpoint_suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._save_weights(path)
        description = {"framework": self.framework, "kind": self.network.kind,
                       "network": network_to_dict(self.network),
                       "random_state": self.random_state}
        path.with_suffix(".json").write_text(json.dumps(description, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Twin:
        """Load a twin saved by :meth:`save`, through the framework's safe loader."""
        path = Path(path)
        description = json.loads(path.with_suffix(".json").read_text())
        network = network_from_dict(description.get("kind", "mlp"), description["network"])
        twin = cls(network, random_state=description["random_state"])
        twin.initialize()
        twin._load_weights(path.with_suffix(cls.checkpoint_suffix))
        return twin

    # -- what each framework supplies ------------------------------------------------------

    checkpoint_suffix: ClassVar[str]

    @abstractmethod
    def _build(self, weights: dict[str, np.ndarray]) -> None:
        """Create the model and optimizer, loaded with ``weights`` (canonical layout)."""

    @abstractmethod
    def train_step(self, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None = None) -> None:
        """One optimizer step on the mean of ``batch_weight · loss`` over the batch.

        The loss is cross-entropy on logits, or a row's mean squared reconstruction error.
        Without weights, the plain mean: the same number, without the multiplications.
        """

    @abstractmethod
    def forward(self, X) -> np.ndarray:
        """The network's output in inference mode, float32: logits (n_rows, n_classes) or the
        reconstruction (n_rows, n_inputs)."""

    @abstractmethod
    def get_weights(self) -> dict[str, np.ndarray]:
        """The parameters in the canonical (Keras) layout, as numpy copies."""

    @abstractmethod
    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load parameters given in the canonical layout."""

    @abstractmethod
    def _save_weights(self, path: Path) -> None: ...

    @abstractmethod
    def _load_weights(self, path: Path) -> None: ...


def reconstruction_error(reconstruction: np.ndarray, X) -> np.ndarray:
    """Per-row mean squared error, in float64 so that tiny errors keep their digits."""
    difference = reconstruction.astype(np.float64) - np.asarray(X, dtype=np.float64)
    return np.square(difference).reshape(len(difference), -1).mean(axis=1)
