"""The project's vocabulary: every name a user can write in an audit definition, as plain data.

This module is the leaf of the package: it imports nothing, so the spec validator, the CLI's
help and the gate can read the allowed names without importing a framework, pandas or the
attribution stack. Modules that implement a name (a framework, a quadrature, an attribution
method) check at import or in a test that they implement exactly the names listed here.
"""

from __future__ import annotations

#: The implementations of a twin, in the order the parity audit pairs them (the first is the
#: reference). Each maps to the module and class that implement it; adding an implementation
#: is one folder under ``twinaudit/frameworks/`` and one line here.
FRAMEWORK_CLASSES: dict[str, str] = {
    "torch": "twinaudit.frameworks.torch.twin:TorchTwin",
    "keras": "twinaudit.frameworks.keras.twin:KerasTwin",
}
FRAMEWORKS: tuple[str, ...] = tuple(FRAMEWORK_CLASSES)
#: The Keras 3 backends the Keras twin runs on, each with the extra that installs its package
#: ("" for one the package's own dependencies bring).
KERAS_BACKENDS: dict[str, str] = {"tensorflow": "", "jax": "jax"}
#: Keras backends the twin does not run on, and why (the spec and the twin say it in their
#: error). Measured on SimpleNet: the float64 Keras-on-PyTorch twin's output is 9.2e-8 off
#: the torch twin's, float32's rounding, where the exact proof allows 1e-9.
UNSUPPORTED_KERAS_BACKENDS: dict[str, str] = {
    "torch": "Keras 3 on PyTorch computes float64 in float32 (its type promotion maps float64 "
             "to float32 off TensorFlow and its matmul casts to it), so no float64 twin exists "
             "for the exact proof"}
#: Every implementation a run can list, in the order the parity audit pairs them: the
#: frameworks, then ``keras[<backend>]`` — the Keras twin on that backend. Plain ``keras`` is
#: Keras on the backend this process's Keras runs on (``KERAS_BACKEND``; TensorFlow unless
#: set), so the names it may stand for must not be listed beside it twice.
IMPLEMENTATIONS: tuple[str, ...] = FRAMEWORKS + tuple(f"keras[{name}]" for name in KERAS_BACKENDS)

DATASETS = ("adult", "csv", "predictions", "simplenet", "digits", "sentiment")

NETWORKS = ("mlp", "cnn", "lstm", "autoencoder")
#: The data sets each network kind reads: tables, 8×8 images, token sequences.
NETWORK_DATASETS: dict[str, tuple[str, ...]] = {
    "mlp": ("adult", "csv", "simplenet"),
    "autoencoder": ("adult", "csv", "simplenet"),
    "cnn": ("digits",),
    "lstm": ("sentiment",),
}
#: [network] keys that only one kind reads; set for another kind they are an error.
KIND_KEYS: dict[str, str] = {"dropout": "mlp", "l2": "mlp", "filters": "cnn",
                             "kernel_size": "cnn", "pool_size": "cnn", "embedding_dim": "lstm",
                             "units": "lstm"}
#: Network kinds the mitigation audit supports: binary classifiers (tabular rows, and text by
#: source domain), and the autoencoder's reweighing (no label: every group the same total
#: weight; :data:`LABEL_FREE_MITIGATIONS`). Not the digits CNN: its groups are its classes.
MITIGATION_NETWORKS = ("mlp", "lstm", "autoencoder")
#: The mitigations that need no label, the only ones a reconstruction network can take.
LABEL_FREE_MITIGATIONS = ("reweighing",)
ACTIVATIONS = ("relu", "tanh", "sigmoid")

#: Integrated Gradients' quadrature rules (twinaudit.attribution.integrated_gradients).
QUADRATURES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
               "riemann_trapezoid")
#: Attribution methods by name (twinaudit.attribution.methods implements each).
ATTRIBUTION_METHODS = ("integrated_gradients", "deeplift", "gradient_shap", "saliency",
                       "input_x_gradient", "shap_gradient", "shap_permutation")
ATTRIBUTION_BASELINES = ("zeros", "train_mean")

#: Intervals of a group rate (twinaudit.fairness.intervals).
RATE_INTERVALS = ("wilson", "clopper_pearson")
#: The bootstrap behind disparities and calibration error, as ``interval_methods`` names it.
BOOTSTRAP_INTERVAL = "bca_bootstrap"
#: Adjustments of the "disparity is not zero" flags for multiple comparisons.
MULTIPLICITY = ("holm", "benjamini_hochberg", "none")

#: fairlearn's ThresholdOptimizer constraints.
CONSTRAINTS = ("demographic_parity", "equalized_odds")
#: [mitigation] methods: pre-processing (the twins retrain on new weights or rows),
#: in-processing (adversarial debiasing; fairlearn's reductions, training twins as their
#: estimator) and
#: post-processing (thresholds on the twins' scores).
MITIGATIONS = ("reweighing", "uniform_resampling", "preferential_resampling",
               "adversarial", "exponentiated_gradient", "grid_search", "threshold_optimizer")
#: The [mitigation] keys a method list replaced, and what to write instead.
RENAMED_MITIGATION_KEYS = {
    "reweighing": 'list "reweighing" in methods (or leave it out)',
    "threshold_optimizer": 'list "threshold_optimizer" in methods (or leave it out)',
}

#: [privacy] attacks: the loss-threshold attack (no shadows) and offline LiRA (shadow twins).
PRIVACY_ATTACKS = ("loss_threshold", "lira")
#: Network kinds DP-SGD trains: the dense ones, whose per-row gradients come from one
#: backward pass (twinaudit.privacy.dp_sgd); convolutions and the LSTM would need a
#: per-row map.
DP_NETWORKS = ("mlp", "autoencoder")

#: The operations of a [data] filters entry ({column, op, value}); in / not in take a list.
FILTER_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
LIST_FILTER_OPS = ("in", "not in")
#: The keys of a filters entry, all required.
FILTER_KEYS = ("column", "op", "value")

#: The JSON Schema dialect of ``twinaudit schema audit|results``.
JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"

#: Upper bounds of the audit definition's sizes, so that a typo (``hidden = [1099511627776]``,
#: ``n_resamples = 10**12``) is an error at load rather than an allocation of terabytes after
#: training. Generous for CPU audits; a list's bound applies to each of its items.
LIMITS: dict[str, int] = {
    "data.max_train_rows": 100_000_000, "data.max_test_rows": 100_000_000,
    "data.sequence_length": 10_000, "data.vocabulary_size": 10_000_000,
    "network.hidden": 65_536, "network.filters": 4_096, "network.kernel_size": 64,
    "network.pool_size": 64, "network.embedding_dim": 4_096, "network.units": 4_096,
    "training.seeds": 2**32 - 1, "training.epochs": 100_000, "training.batch_size": 1_000_000,
    "training.patience": 100_000, "training.threads": 1_024,
    "fairness.n_resamples": 100_000, "fairness.min_group_size": 100_000_000,
    "fairness.bootstrap_seed": 2**32 - 1,
    "attribution.n_rows": 10_000_000, "attribution.integrated_gradients_rows": 10_000_000,
    "attribution.n_steps": 10_000,
    "attribution.random_state": 2**32 - 1, "data.split_seed": 2**32 - 1,
    "privacy.shadows": 256, "privacy.max_candidates": 100_000_000,
    "privacy.random_state": 2**32 - 1,
}
#: At most this many seeds (each trains one twin per framework).
MAX_SEEDS = 100

#: An audit's name becomes a folder and a file name (reports/<name>, models/<name>, the gate's
#: baseline <name>.json): letters, digits, '_', '-' and '.', not starting with a dot, no "..".
AUDIT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


def is_safe_audit_name(name: object) -> bool:
    """Whether ``name`` is usable as the audit's folder and file name (one rule everywhere)."""
    import re

    return (isinstance(name, str) and re.fullmatch(AUDIT_NAME_PATTERN, name) is not None
            and ".." not in name)
