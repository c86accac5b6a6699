"""Reading an audit definition: TOML -> validated :class:`~twinaudit.spec.sections.AuditSpec`.

Unknown keys, wrong types and impossible values are errors that name the file, the key and
what was expected, because a silently ignored typo in an audit definition produces an audit of
something else.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twinaudit.errors import InputError
from twinaudit.spec.sections import EQUIVALENCE_MARGINS, SECTIONS, AuditSpec, NetworkSection
from twinaudit.toml_files import read_toml
from twinaudit.vocabulary import (
    ACTIVATIONS,
    ATTRIBUTION_BASELINES,
    ATTRIBUTION_METHODS,
    CONSTRAINTS,
    DATASETS,
    DP_NETWORKS,
    FILTER_KEYS,
    FILTER_OPS,
    IMPLEMENTATIONS,
    KIND_KEYS,
    LABEL_FREE_MITIGATIONS,
    LIMITS,
    LIST_FILTER_OPS,
    MAX_SEEDS,
    MITIGATION_NETWORKS,
    MITIGATIONS,
    MULTIPLICITY,
    NETWORK_DATASETS,
    NETWORKS,
    PRIVACY_ATTACKS,
    QUADRATURES,
    RATE_INTERVALS,
    RENAMED_MITIGATION_KEYS,
    UNSUPPORTED_KERAS_BACKENDS,
    is_safe_audit_name,
)


class SpecError(InputError):
    """An audit definition that cannot be used as written."""


def load_spec(path: str | Path) -> AuditSpec:
    """Read and validate an audit definition.

    Raises
    ------
    SpecError
        One line naming the file, the key and what was expected.
    """
    path = Path(path)
    raw = read_toml(path, what="audit definition", error=SpecError)
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
        # The gate's rule parser is light (standard library only) and never imports the spec.
        from twinaudit.gate import GateInputError, parse_rules

        try:
            parse_rules(gate_rules if isinstance(gate_rules, dict) else {},
                        source=f"{source} [gate]")
        except GateInputError as error:
            raise SpecError(str(error)) from None
    unknown = sorted(set(raw) - set(SECTIONS) - {"gate"})
    if unknown:
        raise SpecError(
            f"{source}: unknown section [{_shown(unknown[0])}] (expected one of: "
            f"{', '.join(SECTIONS)})"
        )
    for required in ("audit", "data"):
        if required not in raw:
            raise SpecError(f"{source}: missing section [{required}]")
    if isinstance(raw.get("mitigation"), dict):
        raw["mitigation"] = _methods_from_switches(raw["mitigation"], f"{source}: [mitigation]")
    sections = {
        name: _build_section(cls, raw.get(name, {}), f"{source}: [{name}]")
        for name, cls in SECTIONS.items()
    }
    spec = AuditSpec(source=source, **sections)
    _check_values(spec)
    return spec


def _methods_from_switches(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """An older [mitigation] that switched its two methods on and off (``reweighing = true``,
    ``threshold_optimizer = false``) reads as the ``methods`` list it means, so audit
    definitions written before the list still run as they did."""
    switches = {key: raw[key] for key in RENAMED_MITIGATION_KEYS if key in raw}
    if not switches:
        return raw
    if "methods" in raw:
        key = next(iter(switches))
        raise SpecError(f"{where}.{key}: expected no value beside methods (to run it, "
                        f"{RENAMED_MITIGATION_KEYS[key]})")
    for key, value in switches.items():
        if not isinstance(value, bool):
            raise SpecError(f"{where}.{key}: expected bool, got {value!r}")
    rest = {key: value for key, value in raw.items() if key not in switches}
    return {**rest, "methods": [name for name in RENAMED_MITIGATION_KEYS
                                if switches.get(name, True)]}


def _check_filter(entry: dict[str, Any], key: str, require: Callable[..., None]) -> None:
    """One [data] filters entry: exactly column, op and value, the value fitting the op."""
    require(sorted(entry) == sorted(FILTER_KEYS), key,
            f"a table of exactly {', '.join(FILTER_KEYS)}", entry)
    require(isinstance(entry["column"], str) and bool(entry["column"]), f"{key}.column",
            "a column name", entry["column"])
    require(entry["op"] in FILTER_OPS, f"{key}.op", f"one of {', '.join(FILTER_OPS)}",
            entry["op"])
    value = entry["value"]
    values = value if isinstance(value, list) else [value]
    require(isinstance(value, list) == (entry["op"] in LIST_FILTER_OPS), f"{key}.value",
            "a list for in / not in, one value otherwise", value)
    for item in values:
        require(isinstance(item, str | int | float | bool) and
                not (isinstance(item, float) and not math.isfinite(item)), f"{key}.value",
                "text, a finite number or a boolean", item)


def _check_prediction_keys(data: Any, require: Callable[..., None]) -> None:
    """A prediction table names either a column of predicted labels (with the values that
    mean "predicted positive") or a column of scores; the keys mean nothing elsewhere."""
    keys = ("prediction", "predicted_positive", "score")
    if data.dataset != "predictions":
        for key in keys:
            require(not getattr(data, key), f"data.{key}",
                    "no value (it applies to dataset = 'predictions' only)", getattr(data, key))
        return
    require(bool(data.prediction) != bool(data.score), "data.prediction",
            "either prediction (a column of predicted labels) or score (a column of scores), "
            "one of them", data.prediction or data.score)
    require(bool(data.prediction) == bool(data.predicted_positive), "data.predicted_positive",
            "the values of the prediction column that mean 'predicted positive', with "
            "prediction (and only then)", data.predicted_positive)


def _check_privacy(spec: AuditSpec, require: Callable[..., None]) -> None:
    privacy, net = spec.privacy, spec.network
    require(set(privacy.attacks) <= set(PRIVACY_ATTACKS)
            and len(set(privacy.attacks)) == len(privacy.attacks), "privacy.attacks",
            f"distinct names among {', '.join(PRIVACY_ATTACKS)}", privacy.attacks)
    require(privacy.shadows >= 2 and privacy.shadows % 2 == 0, "privacy.shadows",
            "an even number >= 2 (shadows train in complementary pairs)", privacy.shadows)
    require(privacy.max_candidates >= 0, "privacy.max_candidates", "an integer >= 0 (0: all)",
            privacy.max_candidates)
    require(all(0 < epsilon <= 100 for epsilon in privacy.epsilons)
            and len(set(privacy.epsilons)) == len(privacy.epsilons), "privacy.epsilons",
            "distinct budgets in (0, 100]", privacy.epsilons)
    require(0 < privacy.delta < 1, "privacy.delta", "a number in (0, 1)", privacy.delta)
    require(privacy.clipping_norm > 0, "privacy.clipping_norm", "a number > 0",
            privacy.clipping_norm)
    if spec.audits.privacy and privacy.epsilons:
        require(net.kind in DP_NETWORKS, "privacy.epsilons",
                f"no budgets for kind = {net.kind!r} (DP-SGD trains the dense networks: "
                f"{', '.join(DP_NETWORKS)})", privacy.epsilons)
        require(net.dropout == 0 and net.l2 == 0, "network.dropout",
                "0 and network.l2 = 0 with DP-SGD budgets (a row's clipped gradient must be "
                "its whole gradient, and one draw in every framework)", net.dropout)


def _check_bins(bins: Any, key: str, require: Callable[..., None]) -> None:
    """Inner bin edges (a strictly increasing list of finite numbers) or a quantile count."""
    if isinstance(bins, list):
        require(bool(bins) and all(isinstance(edge, int | float) and not isinstance(edge, bool)
                                   and math.isfinite(edge) for edge in bins)
                and all(a < b for a, b in zip(bins, bins[1:], strict=False)), key,
                "a strictly increasing list of numbers (inner edges) or a number of "
                "quantile groups", bins)
        return
    require(isinstance(bins, int) and not isinstance(bins, bool) and 2 <= bins <= 100, key,
            "a number of quantile groups in [2, 100], or a list of inner edges", bins)


def _shown(name: str) -> str:
    """A key as the user wrote it, escaped when it holds a newline or another control
    character (an error is one line)."""
    return name if name.isprintable() else repr(name)[1:-1]


def _build_section(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise SpecError(
            f"{where} unknown key '{_shown(unknown[0])}' (expected one of: {', '.join(fields)})"
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
    if expected is Any:
        return value  # a free-form value: its own check in _check_values says what it must be
    if origin in (typing.Union, types.UnionType):
        raise AssertionError("union fields are not used in specs")  # pragma: no cover
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        if ok and not math.isfinite(value):
            # TOML has inf and nan; no setting of an audit means either.
            raise SpecError(f"{where}: expected a finite number, got {value!r}")
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise SpecError(f"{where}: expected {expected.__name__}, got {value!r}")
    return value


def is_scheduler_address(address: str) -> bool:
    """``protocol://host[:port]`` with a protocol Dask's comms speak."""
    protocol, _, rest = address.partition("://")
    return protocol in ("tcp", "tls", "ws", "wss", "inproc") and bool(rest.strip("/:"))


def _check_values(spec: AuditSpec) -> None:
    where = str(spec.source)

    def require(condition: bool, key: str, expected: str, got: Any) -> None:
        if not condition:
            section, name = key.split(".", 1)
            raise SpecError(f"{where}: [{section}].{name}: expected {expected}, got {got!r}")

    data, net, train = spec.data, spec.network, spec.training
    sections = {"audit": spec.audit, "data": data, "network": net, "training": train,
                "fairness": spec.fairness, "attribution": spec.attribution,
                "privacy": spec.privacy}
    for key, limit in LIMITS.items():
        section, name = key.split(".", 1)
        value = getattr(sections[section], name)
        for item in value if isinstance(value, list) else [value]:
            require(item <= limit, key, f"at most {limit:,}", item)
    require(len(train.seeds) <= MAX_SEEDS, "training.seeds", f"at most {MAX_SEEDS} seeds",
            len(train.seeds))
    require(is_safe_audit_name(spec.audit.name), "audit.name",
            "a plain folder and file name (letters, digits, '_', '-', '.'; no '..')",
            spec.audit.name)
    workspace = os.path.abspath(spec.workspace)
    for key in ("output_dir", "models_dir"):
        folder = os.path.abspath(getattr(spec, key))
        # A TOML (perhaps from someone else's repository) cannot make a run write outside its
        # own workspace; a user who wants that says so on the command line.
        require(os.path.commonpath([workspace, folder]) == workspace, f"audit.{key}",
                f"a folder inside the audit's workspace {workspace} (a folder elsewhere is given "
                f"with --{key.replace('_', '-')})", getattr(spec.audit, key))
    for family, margin in spec.parity.margins.items():
        require(family in EQUIVALENCE_MARGINS, "parity.margins",
                f"metric families among {', '.join(EQUIVALENCE_MARGINS)}", family)
        require(0 < margin <= 1e6, f"parity.margins.{family}", "a margin in (0, 1e6]", margin)
    require(spec.execution.workers >= -1, "execution.workers",
            "-1 (one per core), 0 (in-process) or a number of workers", spec.execution.workers)
    require(not spec.execution.scheduler or is_scheduler_address(spec.execution.scheduler),
            "execution.scheduler", "a scheduler address such as tcp://host:8786",
            spec.execution.scheduler)
    require(0 < spec.parity.alpha < 0.5, "parity.alpha", "a number in (0, 0.5)",
            spec.parity.alpha)
    require(1 <= spec.parity.proof_seeds <= MAX_SEEDS, "parity.proof_seeds",
            f"an integer in [1, {MAX_SEEDS}]", spec.parity.proof_seeds)
    for number, entry in enumerate(data.filters, start=1):
        _check_filter(entry, f"data.filters[{number}]", require)
    require(not (data.features and data.drop_columns), "data.features",
            "either features (a keep-list) or drop_columns, not both", data.features)
    require(data.dataset in DATASETS, "data.dataset", f"one of {DATASETS}", data.dataset)
    require(0 < data.validation_fraction < 1, "data.validation_fraction",
            "a number in (0, 1)", data.validation_fraction)
    require(0 < data.test_fraction < 1, "data.test_fraction", "a number in (0, 1)",
            data.test_fraction)
    require(data.max_train_rows >= 0, "data.max_train_rows", "an integer >= 0",
            data.max_train_rows)
    require(data.max_test_rows >= 0, "data.max_test_rows", "an integer >= 0",
            data.max_test_rows)
    if data.dataset in ("csv", "predictions"):
        for key in ("path", "label", "positive"):
            require(bool(getattr(data, key)), f"data.{key}",
                    f"a value (the {data.dataset} data set needs path, label and positive)", "")
    _check_prediction_keys(data, require)
    require(0 < data.threshold < 1, "data.threshold", "a number in (0, 1)", data.threshold)
    for column, bins in data.bins.items():
        require(column in data.sensitive_features, "data.bins",
                f"keys among the sensitive features {sorted(data.sensitive_features)}", column)
        _check_bins(bins, f"data.bins.{column}", require)
    require(net.kind in NETWORKS, "network.kind", f"one of {NETWORKS}", net.kind)
    require(data.dataset == "predictions" or data.dataset in NETWORK_DATASETS[net.kind],
            "data.dataset",
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
    require(not spec.audits.mitigation or net.kind in MITIGATION_NETWORKS, "audits.mitigation",
            "false for this kind (mitigation is implemented for the binary classifiers, the "
            "MLP and the LSTM, and the autoencoder's reweighing)", spec.audits.mitigation)
    require(not spec.audits.mitigation or net.kind != "autoencoder"
            or set(spec.mitigation.methods) <= set(LABEL_FREE_MITIGATIONS), "mitigation.methods",
            f"only {', '.join(LABEL_FREE_MITIGATIONS)} for the autoencoder (the others need a "
            "label)", spec.mitigation.methods)
    _check_privacy(spec, require)
    require(0 < spec.fairness.flag_quantile < 1, "fairness.flag_quantile", "a number in (0, 1)",
            spec.fairness.flag_quantile)
    require(bool(net.hidden) and all(h > 0 for h in net.hidden), "network.hidden",
            "a non-empty list of positive layer widths", net.hidden)
    require(net.activation in ACTIVATIONS, "network.activation", f"one of {ACTIVATIONS}",
            net.activation)
    require(0 <= net.dropout < 1, "network.dropout", "a number in [0, 1)", net.dropout)
    require(net.l2 >= 0, "network.l2", "a number >= 0", net.l2)
    for backend, reason in UNSUPPORTED_KERAS_BACKENDS.items():
        require(f"keras[{backend}]" not in train.frameworks, "training.frameworks",
                f"distinct names from {IMPLEMENTATIONS} (not keras[{backend}]: {reason})",
                train.frameworks)
    require(bool(train.frameworks) and set(train.frameworks) <= set(IMPLEMENTATIONS)
            and len(set(train.frameworks)) == len(train.frameworks),
            "training.frameworks", f"distinct names from {IMPLEMENTATIONS}", train.frameworks)
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
    require(fairness.min_group_size >= 1, "fairness.min_group_size", "an integer >= 1",
            fairness.min_group_size)
    require(fairness.rate_interval in RATE_INTERVALS, "fairness.rate_interval",
            f"one of {RATE_INTERVALS}", fairness.rate_interval)
    require(fairness.multiplicity in MULTIPLICITY, "fairness.multiplicity",
            f"one of {MULTIPLICITY}", fairness.multiplicity)
    require(set(mitigation.methods) <= set(MITIGATIONS)
            and len(set(mitigation.methods)) == len(mitigation.methods), "mitigation.methods",
            f"distinct names among {', '.join(MITIGATIONS)}", mitigation.methods)
    require(0 < mitigation.reductions_eps <= 1, "mitigation.reductions_eps",
            "a number in (0, 1]", mitigation.reductions_eps)
    require(1 <= mitigation.reductions_max_iter <= 100, "mitigation.reductions_max_iter",
            "an integer in [1, 100]", mitigation.reductions_max_iter)
    require(2 <= mitigation.grid_size <= 100, "mitigation.grid_size",
            "an integer in [2, 100]", mitigation.grid_size)
    require(0 < mitigation.adversary_alpha <= 100, "mitigation.adversary_alpha",
            "a number in (0, 100]", mitigation.adversary_alpha)
    require("adversarial" not in mitigation.methods or net.dropout == 0, "network.dropout",
            "0 with the adversarial mitigation (its adversary reads the network's output "
            "without dropout)", net.dropout)
    require(0 <= mitigation.max_accuracy_cost <= 1, "mitigation.max_accuracy_cost",
            "a number in [0, 1]", mitigation.max_accuracy_cost)
    require(set(spec.reweigh_on) <= sensitive, "mitigation.reweigh_on",
            f"sensitive features among {sorted(sensitive)}", mitigation.reweigh_on)
    require(set(spec.threshold_on) <= sensitive, "mitigation.threshold_on",
            f"sensitive features among {sorted(sensitive)}", mitigation.threshold_on)
    attribution = spec.attribution
    require(set(attribution.methods) <= set(ATTRIBUTION_METHODS), "attribution.methods",
            f"names among {sorted(ATTRIBUTION_METHODS)}", attribution.methods)
    require(attribution.n_rows >= 0, "attribution.n_rows", "an integer >= 0 (0: all rows)",
            attribution.n_rows)
    require(attribution.integrated_gradients_rows >= 0, "attribution.integrated_gradients_rows",
            "an integer >= 0 (0: all rows)", attribution.integrated_gradients_rows)
    require(attribution.n_steps >= 1, "attribution.n_steps", "an integer >= 1",
            attribution.n_steps)
    require(attribution.baselines in ATTRIBUTION_BASELINES, "attribution.baselines",
            "'zeros' or 'train_mean'", attribution.baselines)
    require(attribution.integration_method in QUADRATURES,
            "attribution.integration_method", f"one of {sorted(QUADRATURES)}",
            attribution.integration_method)
    target = spec.benchmarks.target_validation_accuracy
    require(0 < target <= 1, "benchmarks.target_validation_accuracy", "a number in (0, 1]",
            target)
    require(mitigation.constraints in CONSTRAINTS,
            "mitigation.constraints", "'demographic_parity' or 'equalized_odds'",
            mitigation.constraints)
