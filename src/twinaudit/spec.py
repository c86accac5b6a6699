"""The audit definition: a TOML file, validated into frozen dataclasses.

Every section is a dataclass; its fields are the only keys allowed. Unknown keys, wrong types
and impossible values are errors that name the file, the key and what was expected, because a
silently ignored typo in an audit definition produces an audit of something else.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twinaudit.errors import TwinauditError

FRAMEWORKS = ("torch", "keras")
DATASETS = ("adult", "csv", "simplenet", "digits", "sentiment")
NETWORKS = ("mlp", "cnn", "lstm", "autoencoder")
#: The data sets each network kind reads: tables, 8×8 images, token sequences.
NETWORK_DATASETS = {"mlp": ("adult", "csv", "simplenet"), "autoencoder": ("adult", "csv", "simplenet"),
                    "cnn": ("digits",), "lstm": ("sentiment",)}
#: [network] keys that only one kind reads; set for another kind they are an error.
KIND_KEYS = {"dropout": "mlp", "l2": "mlp", "filters": "cnn", "kernel_size": "cnn",
             "pool_size": "cnn", "embedding_dim": "lstm", "units": "lstm"}
ACTIVATIONS = ("relu", "tanh", "sigmoid")


class SpecError(TwinauditError):
    """An audit definition that cannot be used as written."""


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
    positive: str = ""
    test_fraction: float = 0.3
    drop_columns: list[str] = field(default_factory=list)
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
    #: autoencoder: a row is flagged when its reconstruction error exceeds this quantile of
    #: the validation split's errors.
    flag_quantile: float = 0.95


@dataclass(frozen=True)
class MitigationSection:
    """[mitigation]: Kamiran–Calders reweighing and fairlearn's ThresholdOptimizer."""

    reweighing: bool = True
    #: The grouping the weights make independent of the label (default: the first sensitive
    #: feature).
    reweigh_on: list[str] = field(default_factory=list)
    threshold_optimizer: bool = True
    #: "demographic_parity" or "equalized_odds".
    constraints: str = "demographic_parity"
    #: The grouping the thresholds are per (default: as reweigh_on).
    threshold_on: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AttributionSection:
    """[attribution]: which methods explain the twins, on how many test rows."""

    #: A seeded sample of test rows; 0 means every test row.
    n_rows: int = 2000
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


@dataclass(frozen=True)
class BenchmarksSection:
    """[benchmarks]: what ``twinaudit bench`` measures against."""

    #: Time-to-accuracy stops the clock at the first epoch reaching this validation accuracy.
    target_validation_accuracy: float = 0.84


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
    attribution: AttributionSection = field(default_factory=AttributionSection)
    benchmarks: BenchmarksSection = field(default_factory=BenchmarksSection)

    @property
    def group_sets(self) -> list[list[str]]:
        """The fairness group sets, defaults filled in."""
        if self.fairness.group_sets:
            return [list(group_set) for group_set in self.fairness.group_sets]
        columns = list(self.data.sensitive_features)
        return [[column] for column in columns] + ([columns] if len(columns) > 1 else [])

    @property
    def reweigh_on(self) -> list[str]:
        return list(self.mitigation.reweigh_on or self.data.sensitive_features[:1])

    @property
    def threshold_on(self) -> list[str]:
        return list(self.mitigation.threshold_on or self.reweigh_on)

    @property
    def output_dir(self) -> Path:
        return Path(self.audit.output_dir or f"reports/{self.audit.name}")

    @property
    def models_dir(self) -> Path:
        return Path(self.audit.models_dir or f"models/{self.audit.name}")

    def resolve(self, relative: str) -> Path:
        """A path written in the spec, resolved against the spec file's folder."""
        path = Path(relative)
        return path if path.is_absolute() else self.source.parent / path

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, for results.json."""
        as_dict = dataclasses.asdict(self)
        as_dict["source"] = str(self.source)
        return as_dict


_SECTIONS: dict[str, type] = {
    "audit": AuditSection,
    "data": DataSection,
    "network": NetworkSection,
    "training": TrainingSection,
    "audits": AuditsSection,
    "fairness": FairnessSection,
    "mitigation": MitigationSection,
    "attribution": AttributionSection,
    "benchmarks": BenchmarksSection,
}


def load_spec(path: str | Path) -> AuditSpec:
    """Read and validate an audit definition.

    Raises
    ------
    SpecError
        One line naming the file, the key and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: audit definition not found (expected a TOML file)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: not valid TOML ({error})") from None
    return spec_from_dict(raw, source=path)


def spec_from_dict(raw: dict[str, Any], *, source: Path) -> AuditSpec:
    """Validate an already-parsed TOML document (see :func:`load_spec`).

    A ``[gate]`` section holds the audit's own gate rules (``[[gate.rule]]``); they are
    validated here by the gate's own parser, so a bad rule stops ``twinaudit run`` early, and
    ``twinaudit gate --rules AUDIT.toml`` uses them.
    """
    raw = dict(raw)
    gate_rules = raw.pop("gate", None)
    if gate_rules is not None:
        from twinaudit.gate import GateInputError, parse_rules

        try:
            parse_rules(gate_rules if isinstance(gate_rules, dict) else {},
                        source=f"{source} [gate]")
        except GateInputError as error:
            raise SpecError(str(error)) from None
    unknown = sorted(set(raw) - set(_SECTIONS) - {"gate"})
    if unknown:
        raise SpecError(
            f"{source}: unknown section [{unknown[0]}] (expected one of: {', '.join(_SECTIONS)})"
        )
    for required in ("audit", "data"):
        if required not in raw:
            raise SpecError(f"{source}: missing section [{required}]")
    sections = {
        name: _build_section(cls, raw.get(name, {}), f"{source}: [{name}]")
        for name, cls in _SECTIONS.items()
    }
    spec = AuditSpec(source=source, **sections)
    _check_values(spec)
    return spec


def _build_section(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise SpecError(
            f"{where} unknown key '{unknown[0]}' (expected one of: {', '.join(fields)})"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, f in fields.items():
        if name in raw:
            values[name] = _coerce(raw[name], hints[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SpecError(f"{where} missing required key '{name}'")
    return cls(**values)


def _coerce(value: Any, expected: Any, where: str) -> Any:
    """Check one TOML value against a field's type; ints are accepted where floats are."""
    origin = typing.get_origin(expected)
    if origin is list:
        (item_type,) = typing.get_args(expected)
        if not isinstance(value, list):
            raise SpecError(f"{where}: expected a list, got {value!r}")
        return [_coerce(item, item_type, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        key_type, value_type = typing.get_args(expected)
        if not isinstance(value, dict):
            raise SpecError(f"{where}: expected a table, got {value!r}")
        return {_coerce(k, key_type, where): _coerce(v, value_type, f"{where}.{k}")
                for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        raise AssertionError("union fields are not used in specs")  # pragma: no cover
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise SpecError(f"{where}: expected {expected.__name__}, got {value!r}")
    return value


def _check_values(spec: AuditSpec) -> None:
    where = str(spec.source)

    def require(condition: bool, key: str, expected: str, got: Any) -> None:
        if not condition:
            section, name = key.split(".", 1)
            raise SpecError(f"{where}: [{section}].{name}: expected {expected}, got {got!r}")

    data, net, train = spec.data, spec.network, spec.training
    require(bool(spec.audit.name.strip()), "audit.name", "a non-empty name", spec.audit.name)
    require(data.dataset in DATASETS, "data.dataset", f"one of {DATASETS}", data.dataset)
    require(0 < data.validation_fraction < 1, "data.validation_fraction",
            "a number in (0, 1)", data.validation_fraction)
    require(0 < data.test_fraction < 1, "data.test_fraction", "a number in (0, 1)",
            data.test_fraction)
    require(data.max_train_rows >= 0, "data.max_train_rows", "an integer >= 0",
            data.max_train_rows)
    require(data.max_test_rows >= 0, "data.max_test_rows", "an integer >= 0",
            data.max_test_rows)
    if data.dataset == "csv":
        for key in ("path", "label", "positive"):
            require(bool(getattr(data, key)), f"data.{key}",
                    "a value (the csv data set needs path, label and positive)", "")
    require(net.kind in NETWORKS, "network.kind", f"one of {NETWORKS}", net.kind)
    require(data.dataset in NETWORK_DATASETS[net.kind], "data.dataset",
            f"one of {NETWORK_DATASETS[net.kind]} for kind = {net.kind!r}", data.dataset)
    defaults = NetworkSection()
    for key, kind in KIND_KEYS.items():
        require(getattr(net, key) == getattr(defaults, key) or net.kind == kind,
                f"network.{key}", f"no value (it applies to kind = {kind!r} only)",
                getattr(net, key))
    require(net.kind != "lstm" or net.activation == defaults.activation, "network.activation",
            "no value (the LSTM's activations are fixed: tanh and sigmoid)", net.activation)
    require(bool(net.filters) and all(f > 0 for f in net.filters), "network.filters",
            "a non-empty list of positive filter counts", net.filters)
    for key in ("kernel_size", "pool_size", "embedding_dim", "units"):
        require(getattr(net, key) >= 1, f"network.{key}", "an integer >= 1", getattr(net, key))
    require(data.sequence_length >= 1, "data.sequence_length", "an integer >= 1",
            data.sequence_length)
    require(data.vocabulary_size >= 3, "data.vocabulary_size",
            "an integer >= 3 (padding, out-of-vocabulary and a word)", data.vocabulary_size)
    require(not spec.audits.mitigation or net.kind == "mlp", "audits.mitigation",
            "false for this kind (mitigation is implemented for the MLP's binary "
            "classification)", spec.audits.mitigation)
    require(0 < spec.fairness.flag_quantile < 1, "fairness.flag_quantile", "a number in (0, 1)",
            spec.fairness.flag_quantile)
    require(bool(net.hidden) and all(h > 0 for h in net.hidden), "network.hidden",
            "a non-empty list of positive layer widths", net.hidden)
    require(net.activation in ACTIVATIONS, "network.activation", f"one of {ACTIVATIONS}",
            net.activation)
    require(0 <= net.dropout < 1, "network.dropout", "a number in [0, 1)", net.dropout)
    require(net.l2 >= 0, "network.l2", "a number >= 0", net.l2)
    require(bool(train.frameworks) and set(train.frameworks) <= set(FRAMEWORKS)
            and len(set(train.frameworks)) == len(train.frameworks),
            "training.frameworks", f"distinct names from {FRAMEWORKS}", train.frameworks)
    require(bool(train.seeds) and len(set(train.seeds)) == len(train.seeds)
            and all(s >= 0 for s in train.seeds),
            "training.seeds", "a non-empty list of distinct integers >= 0", train.seeds)
    require(train.epochs >= 1, "training.epochs", "an integer >= 1", train.epochs)
    require(train.batch_size >= 1, "training.batch_size", "an integer >= 1", train.batch_size)
    require(train.learning_rate > 0, "training.learning_rate", "a number > 0",
            train.learning_rate)
    require(0 <= train.beta_1 < 1, "training.beta_1", "a number in [0, 1)", train.beta_1)
    require(0 <= train.beta_2 < 1, "training.beta_2", "a number in [0, 1)", train.beta_2)
    require(train.epsilon > 0, "training.epsilon", "a number > 0", train.epsilon)
    require(train.patience >= 1, "training.patience", "an integer >= 1", train.patience)
    require(train.threads >= 0, "training.threads", "an integer >= 0", train.threads)
    sensitive = set(data.sensitive_features)
    require(bool(sensitive), "data.sensitive_features", "at least one column",
            data.sensitive_features)
    fairness, mitigation = spec.fairness, spec.mitigation
    for group_set in spec.group_sets:
        require(bool(group_set) and set(group_set) <= sensitive, "fairness.group_sets",
                f"groupings of the sensitive features {sorted(sensitive)}", group_set)
    require(set(fairness.privileged) <= sensitive, "fairness.privileged",
            f"keys among the sensitive features {sorted(sensitive)}", fairness.privileged)
    require(fairness.n_resamples >= 0, "fairness.n_resamples", "an integer >= 0",
            fairness.n_resamples)
    require(0 < fairness.confidence < 1, "fairness.confidence", "a number in (0, 1)",
            fairness.confidence)
    require(set(spec.reweigh_on) <= sensitive, "mitigation.reweigh_on",
            f"sensitive features among {sorted(sensitive)}", mitigation.reweigh_on)
    require(set(spec.threshold_on) <= sensitive, "mitigation.threshold_on",
            f"sensitive features among {sorted(sensitive)}", mitigation.threshold_on)
    attribution = spec.attribution
    from twinaudit.attribution.integrated_gradients import METHODS as QUADRATURE_METHODS
    from twinaudit.attribution.methods import METHODS

    require(set(attribution.methods) <= set(METHODS), "attribution.methods",
            f"names among {sorted(METHODS)}", attribution.methods)
    require(attribution.n_rows >= 0, "attribution.n_rows", "an integer >= 0 (0: all rows)",
            attribution.n_rows)
    require(attribution.n_steps >= 1, "attribution.n_steps", "an integer >= 1",
            attribution.n_steps)
    require(attribution.baselines in ("zeros", "train_mean"), "attribution.baselines",
            "'zeros' or 'train_mean'", attribution.baselines)
    require(attribution.integration_method in QUADRATURE_METHODS,
            "attribution.integration_method", f"one of {sorted(QUADRATURE_METHODS)}",
            attribution.integration_method)
    target = spec.benchmarks.target_validation_accuracy
    require(0 < target <= 1, "benchmarks.target_validation_accuracy", "a number in (0, 1]",
            target)
    require(mitigation.constraints in ("demographic_parity", "equalized_odds"),
            "mitigation.constraints", "'demographic_parity' or 'equalized_odds'",
            mitigation.constraints)
