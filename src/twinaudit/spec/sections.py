"""The audit definition's sections: one frozen dataclass per TOML table.

Every field of a section is a key the table may hold, with its default; nothing else is
allowed (:mod:`twinaudit.spec.load` enforces that). This module imports nothing from the rest
of the package but its vocabulary, so reading and validating an audit definition never imports
a framework, pandas or the attribution stack.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twinaudit.vocabulary import FRAMEWORKS


@dataclass(frozen=True)
class AuditSection:
    """[audit]: what the audit is called and where its outputs go."""

    name: str
    description: str = ""
    #: Where results.json, predictions and the report go; default ``reports/<name>``.
    output_dir: str = ""
    #: Where the trained twins are saved; default ``models/<name>``.
    models_dir: str = ""


@dataclass(frozen=True)
class DataSection:
    """[data]: which data set, which columns are sensitive, how it is split."""

    dataset: str
    sensitive_features: list[str] = field(default_factory=lambda: ["sex", "race"])
    #: Whether the sensitive columns are also model inputs (most real pipelines keep them).
    sensitive_as_inputs: bool = True
    validation_fraction: float = 0.2
    split_seed: int = 0
    #: Use only this many (seeded) training rows; 0 means all. For quick runs and tests.
    max_train_rows: int = 0
    #: Likewise for the test split.
    max_test_rows: int = 0
    # The generic "csv" data set (a CSV or parquet file of the user's own):
    path: str = ""
    label: str = ""
    #: The label value predicted as 1. With more than two label values, that value against
    #: the rest (one-vs-rest; the report says so).
    positive: str = ""
    #: The label value that is the good outcome for the person (a loan granted, no
    #: re-arrest); default: ``positive``. Selection rates, demographic parity, disparate
    #: impact and the four-fifths rule are rates of the favourable outcome.
    favourable: str = ""
    #: Numeric sensitive columns cut into groups: ``{age = [25, 45]}`` (inner edges: groups
    #: <25, 25-45, >=45) or ``{age = 4}`` (that many quantile groups of all rows).
    bins: dict[str, Any] = field(default_factory=dict)
    #: Draw the validation and test rows stratified by label x sensitive groups, so that a
    #: small group is in every split in proportion.
    stratify: bool = True
    #: A score at or above this is a positive prediction (the twins' P(positive), or the
    #: ``score`` column of a prediction table).
    threshold: float = 0.5
    test_fraction: float = 0.3
    drop_columns: list[str] = field(default_factory=list)
    #: A keep-list of input columns (the label and the sensitive columns are kept beside it);
    #: empty: every column but the label and drop_columns is an input.
    features: list[str] = field(default_factory=list)
    #: Rows kept: those passing every {column, op, value}; op is one of ==, !=, <, <=, >, >=
    #: (a number or a text value) or in, not in (a list of values). Nothing is evaluated.
    filters: list[dict[str, Any]] = field(default_factory=list)
    # The "predictions" data set (predictions made elsewhere, audited without training): the
    # path, label, positive, sensitive_features, favourable and filters above, and either
    #: the column of predicted labels and the values of it that mean "predicted positive",
    prediction: str = ""
    predicted_positive: list[str] = field(default_factory=list)
    #: or a column of scores, positive at or above ``threshold``.
    score: str = ""
    # The "sentiment" data set's tokenizer (twinaudit.data.text):
    #: Tokens per sequence (longer texts keep their last tokens, shorter are left-padded).
    sequence_length: int = 40
    #: Token ids in all, padding and out-of-vocabulary included.
    vocabulary_size: int = 10000


@dataclass(frozen=True)
class NetworkSection:
    """[network]: the framework-neutral network both twins are built from."""

    #: "mlp", "cnn" (digits), "lstm" (sentiment) or "autoencoder".
    kind: str = "mlp"
    #: Hidden dense widths: the MLP's layers, the CNN's dense head, the autoencoder's
    #: encoder–bottleneck–decoder.
    hidden: list[int] = field(default_factory=lambda: [64, 32])
    activation: str = "relu"
    dropout: float = 0.0
    l2: float = 0.0
    #: cnn: filters of each 'valid' convolution, their square kernel size, the max pool.
    filters: list[int] = field(default_factory=lambda: [8, 16])
    kernel_size: int = 3
    pool_size: int = 2
    #: lstm: embedding width and LSTM units.
    embedding_dim: int = 32
    units: int = 32


@dataclass(frozen=True)
class TrainingSection:
    """[training]: the one schedule that drives every twin."""

    frameworks: list[str] = field(default_factory=lambda: list(FRAMEWORKS))
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    epochs: int = 10
    batch_size: int = 256
    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    early_stopping: bool = True
    patience: int = 3
    #: torch's intra-op threads while training (0: torch's own default, one per core). Small
    #: networks gain nothing from splitting a 256-row batch across cores, and OpenMP threads
    #: that wait for a busy core made training 10-40x slower on a shared 2-core machine.
    threads: int = 1


@dataclass(frozen=True)
class AuditsSection:
    """[audits]: which audits run."""

    parity: bool = True
    fairness: bool = True
    mitigation: bool = True
    attribution: bool = True
    #: The sentiment twins' counterfactual identity test (twinaudit.audits.counterfactual).
    counterfactual: bool = True
    #: Membership inference on every twin and DP-SGD twins ([privacy]). Off by default: its
    #: shadow and DP-SGD twins are further training runs (see docs/privacy.md for the cost).
    privacy: bool = False


@dataclass(frozen=True)
class FairnessSection:
    """[fairness]: group sets, the privileged group, and the bootstrap."""

    #: Each entry is one grouping: a single column or an intersection. Default: every
    #: sensitive feature alone and, when there are several, all of them intersected.
    group_sets: list[list[str]] = field(default_factory=list)
    #: For AIF360's disparate impact and statistical parity difference, e.g. {sex = "Male"}.
    privileged: dict[str, str] = field(default_factory=dict)
    n_resamples: int = 1000
    confidence: float = 0.95
    bootstrap_seed: int = 0
    #: Groups with fewer test rows are shown, with their intervals, but left out of the
    #: headline disparities, the four-fifths verdict and the mitigations' groupings.
    min_group_size: int = 30
    #: The interval of a group rate: "wilson" (score) or "clopper_pearson" (exact).
    rate_interval: str = "wilson"
    #: The adjustment of the "this disparity is not zero" flags for the many comparisons a
    #: run makes: "holm" (family-wise error), "benjamini_hochberg" (false discovery rate),
    #: or "none".
    multiplicity: str = "holm"
    #: autoencoder: a row is flagged when its reconstruction error exceeds this quantile of
    #: the validation split's errors.
    flag_quantile: float = 0.95


@dataclass(frozen=True)
class MitigationSection:
    """[mitigation]: which mitigations run (:data:`twinaudit.vocabulary.MITIGATIONS`), and on
    which groups."""

    #: Pre-processing (reweighing, uniform_resampling, preferential_resampling), in-processing
    #: (adversarial, exponentiated_gradient, grid_search) and post-processing
    #: (threshold_optimizer).
    methods: list[str] = field(default_factory=lambda: ["reweighing", "threshold_optimizer"])
    #: The grouping the training-time mitigations (re-weighing, re-sampling, reductions) make
    #: the label or the predictions independent of (default: the first sensitive feature).
    reweigh_on: list[str] = field(default_factory=list)
    #: The constraint of ThresholdOptimizer, the reductions and the adversary (which sees the
    #: label too for equalized odds): "demographic_parity" or "equalized_odds".
    constraints: str = "demographic_parity"
    #: The grouping the thresholds are per (default: as reweigh_on).
    threshold_on: list[str] = field(default_factory=list)
    #: The reductions' bound on the constraint violation (fairlearn's ``eps`` of
    #: ExponentiatedGradient; GridSearch has none).
    reductions_eps: float = 0.01
    #: The most twins ExponentiatedGradient trains per (framework, seed) (its ``max_iter``),
    #: and the grid size of GridSearch: each is one more training run.
    reductions_max_iter: int = 8
    grid_size: int = 7
    #: Adversarial debiasing's α: how hard the twin pushes against the adversary.
    adversary_alpha: float = 1.0
    #: The report ranks the methods by the disparity they reach among those that cost at
    #: most this much accuracy (mean over seeds).
    max_accuracy_cost: float = 0.01


@dataclass(frozen=True)
class PrivacySection:
    """[privacy]: which membership-inference attacks run, and which DP-SGD twins train
    (:mod:`twinaudit.privacy`)."""

    #: "loss_threshold" (Yeom et al. 2018; no shadows) and "lira" (Carlini et al. 2022,
    #: offline; shadow twins).
    attacks: list[str] = field(default_factory=lambda: ["loss_threshold", "lira"])
    #: LiRA's shadow twins per framework, in complementary pairs (each trains on a random
    #: half of the training split, its partner on the other half), so an even number.
    shadows: int = 4
    #: Members (training rows) and as many non-members (test rows) the attacks score; 0:
    #: as many as the smaller split has.
    max_candidates: int = 0
    #: DP-SGD twins at these budgets ε (each one more twin per framework and seed); empty:
    #: none.
    epsilons: list[float] = field(default_factory=list)
    #: δ of every budget (below 1 / training rows, as is usual).
    delta: float = 1e-5
    #: DP-SGD's per-row gradient clipping norm C.
    clipping_norm: float = 1.0
    #: Seeds the candidate sample and the shadows' halves.
    random_state: int = 0


@dataclass(frozen=True)
class AttributionSection:
    """[attribution]: which methods explain the twins, on how many test rows."""

    #: A seeded sample of test rows; 0 means every test row. For a table, the rows of the
    #: peer methods (captum's and shap's explainers, which cost more); for images and text,
    #: of Integrated Gradients.
    n_rows: int = 2000
    #: For a table, the test rows our Integrated Gradients explains: 0 means every row (one
    #: batched pass per integration step: cheap); another number, a seeded sample of that size.
    integrated_gradients_rows: int = 0
    n_steps: int = 50
    integration_method: str = "gausslegendre"
    #: "zeros" or "train_mean".
    baselines: str = "train_mean"
    methods: list[str] = field(default_factory=lambda: [
        "integrated_gradients", "deeplift", "gradient_shap", "saliency", "input_x_gradient",
        "shap_gradient", "shap_permutation"])
    #: Columns that stand in for a sensitive feature (default: the data set's known proxies).
    proxy_columns: list[str] = field(default_factory=list)
    random_state: int = 0


#: The default equivalence margin of each metric family (twinaudit.audits.equivalence): how
#: far apart two twins' mean values may be and still count as the same. Absolute, in the
#: metric's own units, except where noted.
EQUIVALENCE_MARGINS: dict[str, float] = {
    # One percentage point: below the seed-to-seed spread of accuracy on our tabular audits,
    # and the smallest gap a user would act on.
    "accuracy": 0.01,
    # Differences of group rates (demographic parity, equalized odds): a gap of two noisier
    # group rates, so twice the accuracy margin.
    "disparity": 0.02,
    # Disparate impact ratios (min/max group rate): a quarter of the four-fifths rule's 0.2
    # slack, so a ratio cannot move across the 0.8 line unnoticed.
    "ratio": 0.05,
    # Rank correlation of the twins' attributions (in [−1, 1]): well under the gap between
    # "strong" and "moderate" agreement in the usual reading of Spearman's rho.
    "attribution_agreement": 0.05,
    # RELATIVE: a reconstruction error is in the squared units of the data, which differ per
    # audit, so its margin is this fraction of the reference twin's mean error.
    "reconstruction_error": 0.05,
}
#: Families whose margin is a fraction of the reference twin's mean value.
RELATIVE_MARGINS = frozenset({"reconstruction_error"})


@dataclass(frozen=True)
class ParitySection:
    """[parity]: the statistics of the twin proof (the arithmetic layers have no settings)."""

    #: Equivalence margins per metric family, overriding EQUIVALENCE_MARGINS.
    margins: dict[str, float] = field(default_factory=dict)
    #: The equivalence test's size: a (1 − 2·alpha) confidence interval (90 % by default).
    alpha: float = 0.05
    #: Retrain the reference twin of the first seed one ulp away (one more training run).
    chaos_envelope: bool = True
    #: Run the arithmetic proof on this many seeds (the first ones). A difference in settings
    #: does not depend on the seed, so one is enough to catch it; more exercise more initial
    #: weights, at ~1.5 s each for the default network.
    proof_seeds: int = 1

    @property
    def margins_with_defaults(self) -> dict[str, float]:
        return {**EQUIVALENCE_MARGINS, **self.margins}


@dataclass(frozen=True)
class ModelCardSection:
    """[model_card]: what only the model's owner can say (Mitchell et al. 2019); the report's
    model card fills the rest from the run."""

    owner: str = ""
    contact: str = ""
    licence: str = ""
    version: str = ""
    intended_use: str = ""
    intended_users: str = ""
    out_of_scope_uses: list[str] = field(default_factory=list)
    factors: str = ""
    risks: list[str] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BenchmarksSection:
    """[benchmarks]: what ``twinaudit bench`` measures against."""

    #: Time-to-accuracy stops the clock at the first epoch reaching this validation accuracy.
    target_validation_accuracy: float = 0.84


@dataclass(frozen=True)
class ExecutionSection:
    """[execution]: where the run's tasks execute (``--workers`` and ``--scheduler`` win)."""

    #: Local worker processes, one thread each: -1 is one per core, 0 runs every task in the
    #: run's own process (the sequential reference, no Dask).
    workers: int = -1
    #: An existing Dask cluster's scheduler address (``tcp://host:8786``); empty: local.
    scheduler: str = ""


@dataclass(frozen=True)
class AuditSpec:
    """A validated audit definition.

    Attributes
    ----------
    source : Path
        The TOML file it was read from; relative paths in it are relative to its folder.
    """

    source: Path
    audit: AuditSection
    data: DataSection
    network: NetworkSection = field(default_factory=NetworkSection)
    training: TrainingSection = field(default_factory=TrainingSection)
    audits: AuditsSection = field(default_factory=AuditsSection)
    fairness: FairnessSection = field(default_factory=FairnessSection)
    mitigation: MitigationSection = field(default_factory=MitigationSection)
    privacy: PrivacySection = field(default_factory=PrivacySection)
    attribution: AttributionSection = field(default_factory=AttributionSection)
    parity: ParitySection = field(default_factory=ParitySection)
    benchmarks: BenchmarksSection = field(default_factory=BenchmarksSection)
    model_card: ModelCardSection = field(default_factory=ModelCardSection)
    execution: ExecutionSection = field(default_factory=ExecutionSection)

    @property
    def group_sets(self) -> list[list[str]]:
        """The fairness group sets, defaults filled in."""
        if self.fairness.group_sets:
            return [list(group_set) for group_set in self.fairness.group_sets]
        columns = list(self.data.sensitive_features)
        return [[column] for column in columns] + ([columns] if len(columns) > 1 else [])

    @property
    def favourable(self) -> str:
        """The favourable label value, the default filled in."""
        return self.data.favourable or self.data.positive

    @property
    def reweigh_on(self) -> list[str]:
        return list(self.mitigation.reweigh_on or self.data.sensitive_features[:1])

    @property
    def threshold_on(self) -> list[str]:
        return list(self.mitigation.threshold_on or self.reweigh_on)

    @property
    def workspace(self) -> Path:
        """The folder holding audits/, models/ and reports/: the TOML's folder, or its parent
        when the TOML lies in an ``audits/`` folder (the layout ``twinaudit init`` makes)."""
        folder = self.source.parent
        return folder.parent if folder.name == "audits" else folder

    @property
    def output_dir(self) -> Path:
        """Where the run's outputs go: ``[audit] output_dir`` (default ``reports/<name>``),
        relative to the workspace."""
        return self.workspace / (self.audit.output_dir or f"reports/{self.audit.name}")

    @property
    def models_dir(self) -> Path:
        """Where the trained twins go: ``[audit] models_dir`` (default ``models/<name>``),
        relative to the workspace."""
        return self.workspace / (self.audit.models_dir or f"models/{self.audit.name}")

    def resolve(self, relative: str) -> Path:
        """A path written in the spec, resolved against the spec file's folder."""
        path = Path(relative)
        return path if path.is_absolute() else self.source.parent / path

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, for results.json."""
        as_dict = dataclasses.asdict(self)
        as_dict["source"] = str(self.source)
        return as_dict



SECTIONS: dict[str, type] = {
    "audit": AuditSection,
    "data": DataSection,
    "network": NetworkSection,
    "training": TrainingSection,
    "audits": AuditsSection,
    "fairness": FairnessSection,
    "mitigation": MitigationSection,
    "privacy": PrivacySection,
    "attribution": AttributionSection,
    "parity": ParitySection,
    "benchmarks": BenchmarksSection,
    "model_card": ModelCardSection,
    "execution": ExecutionSection,
}


