"""What every twin is: a scikit-learn estimator driven by the shared schedule.

A framework supplies a few small methods (build, one training step, the network's output,
get/set weights in the canonical layout, save/load, input gradients); everything else —
initial weights, batching, weighting, early stopping, probabilities, anomaly scores — is
written once here and in :mod:`twinaudit.frameworks.schedule`. Each framework's twin lives in
``twinaudit/frameworks/<framework>/twin.py`` and is found through the one registry,
:data:`twinaudit.vocabulary.FRAMEWORK_CLASSES`.

The network's task (:mod:`twinaudit.nets.tasks`) decides what the estimator answers. A
classification twin is a scikit-learn classifier: ``decision_function`` gives the logits,
``predict_proba`` their softmax, ``predict`` and ``score`` the class and the accuracy. A
reconstruction twin (the autoencoder) has ``decision_function`` give each row's anomaly score,
its mean squared reconstruction error (higher is more unusual, as for scikit-learn's outlier
detectors' ``score_samples`` negated), and ``forward`` the reconstruction itself; it is no
classifier: ``predict``, ``predict_proba`` and ``score`` are not available on it (as
scikit-learn's ``available_if`` hides a method), and its estimator type is not "classifier".
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags
from sklearn.utils.metaestimators import available_if

from twinaudit.frameworks.schedule import (
    BatchOrder,
    EpochCallback,
    Schedule,
    StepFunction,
    run_schedule,
)
from twinaudit.nets import Network, initial_weights, network_from_dict, network_to_dict
from twinaudit.nets.tasks import reconstruction_error

#: ``X (n, d) float32 -> (f(X) (n,), dF/dX (n, d))``, both float32.
GradientFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
#: ``(X (n, d), target class) -> (f(X) (n,), dF/dX (n, d))``: one traced function for every class.
RawGradients = Callable[[np.ndarray, "int | None"], tuple[np.ndarray, np.ndarray]]


#: Added to a row's gradient norm before DP-SGD divides by it (Opacus' rule, so that our
#: step equals its DPOptimizer's): ``c_i = min(1, C / (‖g_i‖ + 1e-6))``.
CLIP_STABILITY = 1e-6

#: The float types a twin can compute in.
PRECISIONS = ("float32", "float64")


def _is_classifier(twin: Twin) -> bool:
    return twin.network is not None and twin.network.task.is_classifier


class Twin(BaseEstimator):
    """A network whose spec, initial weights and training are framework-neutral.

    Parameters
    ----------
    network : Network
        The network; both twins of a pair are built from the same spec.
    schedule : Schedule, optional
        The training settings; defaults to ``Schedule()``.
    random_state : int
        Seeds the initial weights and the batch order; equal seeds give identical twins.
    precision : {"float32", "float64"}
        The float type of parameters, activations and loss. Audits train in float32; the
        parity proof also runs both twins in float64, where identical settings agree to
        ~1e-12 and any real difference stands out (:mod:`twinaudit.audits.parity`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classification twins only.
    history_ : dict
        Per-epoch validation figures, weight snapshots and training seconds (after ``fit``).
    """

    framework: ClassVar[str]

    def __init__(self, network: Network | None = None, schedule: Schedule | None = None,
                 random_state: int = 0, precision: str = "float32"):
        self.network = network
        self.schedule = schedule
        self.random_state = random_state
        self.precision = precision

    # -- the shared part -------------------------------------------------------------------

    def initialize(self, weights: dict[str, np.ndarray] | None = None) -> Twin:
        """Build the network with the numpy-drawn initial weights of ``random_state`` (or with
        ``weights``: the parity proof's chaos envelope starts a twin one ulp away)."""
        # Every use of a twin starts here (fit, load): the one place a missing network is
        # reported; the methods after it only narrow the type.
        if self.network is None:
            raise ValueError(f"{type(self).__name__}(network=...) is required: a twin is built "
                             "from a network spec (twinaudit.nets)")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; "
                             f"got {self.precision!r}")
        if self.network.task.is_classifier:
            self.classes_ = np.arange(self.network.output_size)
        self.n_features_in_ = int(np.prod(self.network.input_shape))
        self._build(initial_weights(self.network, self.random_state) if weights is None
                    else weights)
        return self

    def fit(self, X, y=None, sample_weight=None, *, validation=None,
            on_epoch: EpochCallback | None = None,
            initial: dict[str, np.ndarray] | None = None,
            step: StepFunction | None = None, batches: BatchOrder | None = None) -> Twin:
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
        initial : dict of str to ndarray, optional
            Start from these weights (canonical layout) instead of the seed's draw; the batch
            order still follows ``random_state``.
        step : callable, optional
            Replaces :meth:`train_step` for each batch (adversarial debiasing:
            :mod:`twinaudit.fairness.adversarial`; DP-SGD: :mod:`twinaudit.privacy.dp_sgd`).
        batches : callable, optional
            Replaces the schedule's shuffled batches (DP-SGD's Poisson sampling).
        """
        assert self.network is not None, "the twin has no network"
        X = np.asarray(X, dtype=self.input_dtype)
        # The shared schedule indexes y alongside X; a reconstruction ignores it.
        y = np.zeros(len(X), np.int64) if y is None else np.asarray(y, dtype=np.int64)
        if len(X) != len(y):
            raise ValueError("X and y must have the same number of rows")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=self.precision)
            if len(sample_weight) != len(y):
                raise ValueError("sample_weight must have one entry per row of X")
            if np.any(sample_weight < 0) or not np.all(np.isfinite(sample_weight)):
                raise ValueError("sample_weight must be finite and non-negative")
        self.initialize(initial)
        self.history_ = run_schedule(
            self, X, y, sample_weight, schedule=self.schedule or Schedule(),
            seed=self.random_state, validation=validation, on_epoch=on_epoch, step=step,
            batches=batches,
        )
        return self

    @property
    def input_dtype(self) -> str:
        """What the network is fed: token ids stay integers, anything else is ``precision``."""
        assert self.network is not None, "the twin has no network"
        if np.issubdtype(np.dtype(self.network.input_dtype), np.integer):
            return self.network.input_dtype
        return self.precision

    def loss_gradients(self, X: np.ndarray, y: np.ndarray,
                       batch_weight: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The gradient of :meth:`train_step`'s loss for every trainable parameter, in the
        canonical layout, without taking the step (the parity proof compares them)."""
        assert self.network is not None, "the twin has no network"
        return self._loss_gradients(np.asarray(X, dtype=self.input_dtype),
                                    np.asarray(y, dtype=np.int64),
                                    None if batch_weight is None
                                    else np.asarray(batch_weight, dtype=self.precision))

    def loss_gradients_and_output(self, X: np.ndarray, y: np.ndarray,
                                  batch_weight: np.ndarray | None = None
                                  ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """:meth:`loss_gradients` and the network's output on the same batch (an adversarial
        step needs both; a framework may compute them in one pass)."""
        return self.loss_gradients(X, y, batch_weight), self.forward(X)

    def decision_function(self, X) -> np.ndarray:
        """Logits (n_rows, n_classes), float32; for a reconstruction, each row's mean squared
        reconstruction error (n_rows,), float64."""
        assert self.network is not None, "the twin has no network"
        if self.network.task.target_is_input:
            return reconstruction_error(self.forward(X), X)
        return self.forward(X)

    @available_if(_is_classifier)
    def predict_proba(self, X) -> np.ndarray:
        logits = self.decision_function(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    @available_if(_is_classifier)
    def predict(self, X) -> np.ndarray:
        return self.decision_function(X).argmax(axis=1)

    @available_if(_is_classifier)
    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy on ``X`` (scikit-learn's classifier ``score``)."""
        correct = (self.predict(X) == np.asarray(y)).astype(np.float64)
        return float(np.average(correct, weights=sample_weight))

    # -- pickling: a twin travels to and from the engine's workers as plain data -----------

    def __getstate__(self) -> dict[str, Any]:
        """The parameters, the history and the weights (canonical numpy layout); never the
        framework's own model or optimizer objects, which need not pickle (Keras models,
        compiled functions) and would pin a worker's framework state to the twin. An
        optimizer's moments are not kept: a pickled twin is for predicting and explaining."""
        state = {name: value for name, value in vars(self).items()
                 if name in ("network", "schedule", "random_state", "precision", "history_")}
        if hasattr(self, "n_features_in_"):  # initialised: it has weights to carry
            state["weights_"] = self.get_weights()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        weights = state.pop("weights_", None)
        self.__dict__.update(state)
        if weights is not None:
            self.initialize(weights)

    def __sklearn_tags__(self):
        # The estimator type follows the task: a classifier only when it predicts classes, so
        # scikit-learn's is_classifier(autoencoder twin) is False.
        tags = super().__sklearn_tags__()
        if _is_classifier(self):
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
            tags.target_tags.required = True
        return tags

    def save(self, path: str | Path) -> Path:
        """Save the weights (framework format) and a JSON sidecar describing the twin.

        Both are written atomically (a temporary file renamed over the target), and a target
        that is a symbolic link or a directory is refused: a checkout that ships a planted link
        cannot make a run overwrite the file it points to.
        """
        from twinaudit.results.io import check_writable_target, replace_atomically, write_atomic

        path = Path(path).with_suffix(self.checkpoint_suffix)
        sidecar = path.with_suffix(".json")
        for target in (path, sidecar):
            check_writable_target(target)
        replace_atomically(path, self._save_weights, suffix=self.checkpoint_suffix)
        assert self.network is not None, "the twin has no network"
        description = {"framework": self.framework, "kind": self.network.kind,
                       "network": network_to_dict(self.network),
                       "random_state": self.random_state}
        write_atomic(sidecar, json.dumps(description, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Twin:
        """Load a twin saved by :meth:`save`, through the framework's safe loader.

        Raises
        ------
        InputError
            One line naming the file when the sidecar or the weights are missing, truncated,
            of another network, or refused by the framework's safe loader.
        """
        from twinaudit.errors import InputError

        path = Path(path)
        description = read_sidecar(path)
        weights = path.with_suffix(cls.checkpoint_suffix)
        try:
            network = network_from_dict(description.get("kind", "mlp"), description["network"])
            twin = cls(network, random_state=description["random_state"])
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(f"{path.with_suffix('.json')}: not a twin's description "
                             f"({type(error).__name__}: {error})") from None
        twin.initialize()
        if not weights.is_file():
            raise InputError(f"{weights}: checkpoint not found")
        try:
            twin._load_weights(weights)
        except Exception as error:  # noqa: BLE001 - any loader failure means an unusable file
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise InputError(f"{weights}: not a usable {cls.framework} checkpoint "
                             f"({reason})") from None
        return twin

    # -- what each framework supplies ------------------------------------------------------

    checkpoint_suffix: ClassVar[str]
    #: The distributions the framework's twin runs on; results.json records their versions.
    packages: ClassVar[tuple[str, ...]] = ()

    @classmethod
    @contextmanager
    def thread_limit(cls, threads: int) -> Iterator[None]:
        """Run a block with the framework's intra-op threads limited (0: as they are).

        The default does nothing: only frameworks whose thread pools hurt small networks on a
        shared machine (torch) override it.
        """
        yield

    @classmethod
    def environment(cls) -> dict[str, Any]:
        """What results.json records of this framework's set-up (backend, threads, device)."""
        return {}

    def torch_module(self) -> Any:
        """The twin's network as a ``torch.nn.Module`` for captum, or None (no torch model)."""
        return None

    @abstractmethod
    def raw_gradients(self, row_shape: tuple[int, ...], *, per_class: bool,
                      from_embeddings: bool) -> RawGradients:
        """The explained output and its input gradient (see
        :mod:`twinaudit.attribution.gradients`), built once for this twin's model."""

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
    def _loss_gradients(self, X: np.ndarray, y: np.ndarray,
                        batch_weight: np.ndarray | None) -> dict[str, np.ndarray]:
        """See :meth:`loss_gradients`; ``X``, ``y`` and the weights already have their dtypes."""

    @abstractmethod
    def output_gradients(self, X: np.ndarray, upstream: np.ndarray) -> dict[str, np.ndarray]:
        """The gradient of ``sum(upstream · output(X))`` for every trainable parameter, in the
        canonical layout: the vector–Jacobian product that carries a loss computed outside
        the framework (an adversary's, :mod:`twinaudit.fairness.adversarial`) back into the
        network. ``upstream`` has the output's shape."""

    @abstractmethod
    def clipped_gradient_sum(self, X: np.ndarray, y: np.ndarray,
                             clipping_norm: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """DP-SGD's clipped sum: every row's own loss gradient ``g_i`` (no L2 term: DP networks
        have none), scaled by ``c_i = min(1, C / (‖g_i‖ + CLIP_STABILITY))``, summed over the
        batch, in the canonical layout; and the rows' norms ``‖g_i‖`` (float64), the norm
        taken over every trainable parameter together. Per-row gradients come from the
        framework's vectorised map (torch.func.vmap; TensorFlow's pfor Jacobian)."""

    @abstractmethod
    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        """One optimizer (Adam, torch's rule) step with the given gradients, canonical
        layout: the step of :meth:`train_step`, with gradients formed elsewhere."""

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


def read_sidecar(path: Path) -> dict[str, Any]:
    """The JSON description saved beside a checkpoint (``<path>.json``), checked to be one."""
    from twinaudit.errors import InputError

    sidecar = Path(path).with_suffix(".json")
    try:
        description = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{sidecar}: the checkpoint's description is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{sidecar}: not a twin's description ({error})") from None
    if not isinstance(description, dict):
        raise InputError(f"{sidecar}: not a twin's description (expected a JSON object)")
    return description
