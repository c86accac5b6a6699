"""The results.json schema: its version, its kind, its sections and what each section holds.

docs/results-schema.md describes every section; a test checks that it documents exactly the
sections listed here, and that a real run writes no section that is not listed. Bump
SCHEMA_VERSION on any change that moves or re-means a field.

:func:`json_schema` is the whole document as a JSON Schema (Draft 2020-12), built from the
small helpers below. The one reader (:func:`twinaudit.results.read_results`) enforces it with
:mod:`twinaudit.results.validate` before a report, comparison or gate sees a value. Three
rules decide how strict each part is:

- **Types are strict** wherever a reader (report views, compare, gate) reads a value: a number
  where it does arithmetic, a string where it joins or sorts, an object where it calls
  ``.get`` or ``.items``, a list where it iterates. A *measured* figure is :func:`figure`,
  a number or null, because the writer turns NaN and infinities into null.
- **Few keys are required**: only what identifies a document or an entry (``schema_version``,
  ``audit.name``, a twin's framework and seed) and both sides of a mitigation's before/after
  change (the report indexes them). The readers treat every other field as optional (a
  missing one shows as a dash), and hand-written documents (the gate's tests, partial
  documents) must still read. REQUIRED_SECTIONS says what every *run* writes; it is
  documentation, not a reader's requirement.
- **Extra keys inside a section are allowed**: a section may gain a field without a schema
  bump (only moving or re-meaning one bumps it), and the report finds fairness audits by
  their shape wherever they sit, so readers of this version must accept the fields of a
  newer writer. The top level stays closed: its sections are a fixed list that the gate's
  rule paths and the documentation check against. Free-form content (``audit.spec``, a
  benchmark row's extra information, ``benchmarks.machine``) is "any object".
"""

from __future__ import annotations

from typing import Any

from twinaudit.vocabulary import BOOTSTRAP_INTERVAL, JSON_SCHEMA_DRAFT, MULTIPLICITY, RATE_INTERVALS

SCHEMA_VERSION = 2
RESULTS_KIND = "twinaudit.results"

#: Every top-level key of schema 2, with whether every run writes it and what it holds. The
#: optional sections are written by the audits the spec enables (and ``benchmarks`` by
#: ``twinaudit bench``).
SECTION_TABLE: dict[str, tuple[bool, str]] = {
    "schema_version": (True, "the schema's version"),
    "kind": (True, "always 'twinaudit.results'"),
    "twinaudit_version": (True, "the package version that wrote the file"),
    "audit": (True, "the audit's name, description, spec file, spec and command"),
    "environment": (True, "versions, hardware, seeds, frameworks, settings, git SHA, time"),
    "data": (True, "data set summary: rows, label balance, features, groups"),
    "network": (True, "the network's kind, settings and parameter count"),
    "training": (True, "the schedule both twins were trained with"),
    "twins": (True, "one summary per (framework, seed) twin"),
    "parity": (False, "the identical-settings proof (both frameworks trained)"),
    "fairness": (False, "group metrics and disparities per twin, summary across seeds"),
    "mitigation": (False, "each [mitigation] method's twins or predictions, before and after"),
    "privacy": (False, "membership inference per twin and group; DP-SGD twins, ε and cost"),
    "anomaly": (False, "autoencoder flag thresholds per twin"),
    "counterfactual": (False, "the text twins' counterfactual identity test"),
    "attribution": (False, "attributions, twin agreement, the fairness link"),
    "benchmarks": (False, "speed and accuracy rows written by twinaudit bench"),
    "outputs": (True, "the file names of the predictions and the report"),
    "execution": (False, "where the run's tasks ran: in-process, local or remote Dask"),
    "run_seconds": (True, "wall time of the run"),
}
SECTIONS: tuple[str, ...] = tuple(SECTION_TABLE)
#: The sections every run writes (the reader requires only ``schema_version``: see above).
REQUIRED_SECTIONS: tuple[str, ...] = tuple(name for name, (required, _) in SECTION_TABLE.items()
                                           if required)
#: The keys a document must have to be read at all.
READER_REQUIRED: tuple[str, ...] = ("schema_version",)


# ---------------------------------------------------------------------------------------------
# Building blocks (each returns a fresh JSON Schema dict)

Schema = dict[str, Any]


def string() -> Schema:
    return {"type": "string"}


def number() -> Schema:
    return {"type": "number"}


def integer(minimum: int | None = None) -> Schema:
    return {"type": "integer"} if minimum is None else {"type": "integer", "minimum": minimum}


def count() -> Schema:
    """A number of rows, seeds, epochs ...: a whole number, never negative."""
    return integer(minimum=0)


def boolean() -> Schema:
    return {"type": "boolean"}


def anything() -> Schema:
    """Any JSON value (free-form content no reader interprets)."""
    return {}


def scalar() -> Schema:
    """A label or setting value: text, number or flag (a group's value, a privileged value)."""
    return {"type": ["string", "number", "boolean"]}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null. Keywords other than ``type`` and ``enum`` apply to their own type
    only in JSON Schema, so adding ``null`` to those two is enough."""
    types = schema.get("type")
    if types is None or "null" in types:
        return schema  # it accepts null already
    widened = dict(schema)
    widened["type"] = [*([types] if isinstance(types, str) else types), "null"]
    if "enum" in schema:
        widened["enum"] = [*schema["enum"], None]
    return widened


def figure() -> Schema:
    """A measured value: a number, or null where it is undefined (NaN is written as null)."""
    return nullable(number())


def one_of(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def array(items: Schema | None = None, *, length: int | None = None) -> Schema:
    schema: Schema = {"type": "array"}
    if items is not None:
        schema["items"] = items
    if length is not None:
        schema["minItems"] = schema["maxItems"] = length
    return schema


def interval() -> Schema:
    """A ``[low, high]`` confidence interval, or null where none was computed."""
    return nullable(array(figure(), length=2))


def mapping(values: Schema) -> Schema:
    """An object keyed by names the data chooses (frameworks, seeds, groups, metrics)."""
    return {"type": "object", "additionalProperties": values}


def obj(required: dict[str, Schema] | None = None, optional: dict[str, Schema] | None = None,
        *, closed: bool = False) -> Schema:
    """An object with known keys; other keys are allowed unless ``closed`` (see the module
    docstring for why sections stay open)."""
    required = required or {}
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


# ---------------------------------------------------------------------------------------------
# Shapes several sections share


def framework_comparison() -> Schema:
    """``twinaudit.audits.seed_noise.compare_frameworks``: each framework's seed spread, and
    the paired equivalence verdict of their per-seed differences."""
    verdict = one_of("equivalent", "undecided", "different")
    return obj(optional={
        "by_framework": mapping(obj(optional={
            "values": array(number()), "mean": figure(), "sd": figure(),
            "sd_interval": interval(), "level": number(), "min": figure(), "max": figure(),
            "n_seeds": count(), "reason": nullable(string())})),
        "difference": figure(),
        "paired": obj(optional={
            "n_seeds": count(), "differences": array(number()), "mean": figure(),
            "sd": figure(), "ci_level": number(), "ci": interval(), "margin": number(),
            "alpha": number(), "p_lower": figure(), "p_upper": figure(), "p_tost": figure(),
            "verdict": verdict, "seeds_needed": nullable(count()),
            "more_seeds_needed": nullable(count()), "reason": nullable(string()),
            "text": string()}),
        "verdict": verdict, "text": string(),
    })


def twin_summary() -> Schema:
    """One trained twin's headline figures (``pipeline.twin_summaries``)."""
    return obj(required={"framework": string(), "seed": integer()}, optional={
        "test_accuracy": figure(), "test_reconstruction_error": figure(),
        "epochs_run": count(), "best_epoch": integer(), "train_seconds": figure(),
        "cache": one_of("hit", "miss", "off"),
        "history": array(obj(optional={
            "epoch": count(), "validation_loss": figure(), "validation_accuracy": figure(),
            "seconds": figure()})),
        "checkpoint": nullable(string()),
    })


def estimate() -> Schema:
    """A point value with its bootstrap interval."""
    return obj(optional={"value": figure(), "ci": interval()})


def group_entry() -> Schema:
    """One group (or everyone) of a fairness audit."""
    # Null without scores (a prediction table with no score column).
    model_quality = nullable(obj(optional={
        "roc_auc": figure(),
        "calibration_curve": obj(optional={
            "rows": array(count()), "mean_score": array(figure()),
            "mean_label": array(figure())}),
        "score_histogram": array(count())}))
    return obj(optional={
        "values": mapping(nullable(scalar())), "count": count(), "weighted_count": figure(),
        "small_group": boolean(), "metrics": mapping(estimate()),
        "model_quality": model_quality})


def fairness_audit() -> Schema:
    """``twinaudit.fairness.audit.fairness_audit``: one twin's group metrics and disparities."""
    disparity = obj(optional={
        # A disparity's value is a number; the four-fifths rule's is a flag.
        "value": {"type": ["number", "boolean", "null"]}, "ci": interval(),
        "metric": nullable(string()), "worst_group": nullable(string()),
        "reference_group": nullable(string()), "reason": nullable(string()),
        "ratio": figure(), "share_of_resamples_violating": figure(),
        # The homogeneity test of the rates behind it, and its run-wide adjusted flag.
        "tested_rates": nullable(array(string())), "p_value": figure(), "p_adjusted": figure(),
        "nonzero": nullable(boolean())})
    excluded = obj(optional={"group": string(), "count": count(), "reason": string()})
    group_set = obj(optional={
        "columns": array(string()), "status": string(), "reason": nullable(string()),
        "privileged_group": nullable(string()), "groups": mapping(group_entry()),
        "excluded_groups": array(excluded), "disparities": mapping(disparity)})
    return obj(optional={
        "schema": string(), "n_rows": count(), "weighted": boolean(), "n_resamples": count(),
        "confidence": number(), "random_state": nullable(integer()),
        "favourable_label": scalar(), "small_group_rows": count(),
        "rate_interval": one_of(*RATE_INTERVALS),
        "interval_methods": mapping(one_of(*RATE_INTERVALS, BOOTSTRAP_INTERVAL)),
        "score_bins": obj(optional={"calibration": count(), "histogram": count()}),
        "overall": group_entry(), "group_sets": mapping(group_set)})


def multiplicity() -> Schema:
    """``twinaudit.fairness.multiplicity.flag_run``: the run's family of "not zero" tests."""
    return obj(optional={"method": one_of(*MULTIPLICITY), "alpha": number(),
                         "comparisons": count(), "flagged": count()})


def fairness_by_twin(*, settings: bool = False) -> Schema:
    """``twinaudit.fairness.by_twin.fairness_by_twin``: an audit per framework and seed, and
    the summary across seeds (the ``fairness`` section adds its settings and outcome note)."""
    summary = obj(optional={
        "rule": string(), "frameworks": array(string()), "noise_multiplier": number(),
        "seeds": mapping(array(integer())), "overall": mapping(framework_comparison()),
        "group_sets": mapping(mapping(framework_comparison()))})
    optional: dict[str, Schema] = {"twins": mapping(mapping(fairness_audit())),
                                   "summary": summary, "summary_pairs": array(summary),
                                   "multiplicity": multiplicity()}
    if settings:
        optional["settings"] = obj(optional={
            "group_sets": array(array(string())), "privileged": mapping(scalar()),
            "n_resamples": count(), "confidence": number(), "bootstrap_seed": integer(),
            "favourable_label": scalar(), "min_group_size": count(),
            "rate_interval": one_of(*RATE_INTERVALS), "multiplicity": one_of(*MULTIPLICITY),
            "threshold": number()})
        optional["outcome"] = nullable(string())
    return obj(optional=optional)


# ---------------------------------------------------------------------------------------------
# The sections


def audit_schema() -> Schema:
    return obj(required={"name": string()}, optional={
        "description": nullable(string()), "spec_file": nullable(string()),
        "spec": {"type": "object"}, "command": nullable(string())})


def environment_schema() -> Schema:
    return obj(optional={
        "python": string(), "packages": mapping(nullable(string())), "platform": string(),
        "machine": string(), "processor": string(), "cpu_count": nullable(count()),
        "device": string(), "seeds": array(integer()), "frameworks": array(string()),
        "keras_backend": nullable(string()), "keras_backends": mapping(string()),
        "settings": obj(optional={
            "TF_ENABLE_ONEDNN_OPTS": string(), "keras_jit_compile": boolean(),
            "precision": string(), "torch_default_threads": integer()}),
        "git_sha": nullable(string()), "audit_git_sha": nullable(string()),
        "timestamp": string()})


def data_schema() -> Schema:
    groups = mapping(mapping(mapping(obj(optional={"count": count(), "base_rate": figure()}))))
    return obj(optional={
        "name": string(), "label": string(), "positive_label": scalar(),
        "rows": mapping(count()), "positive_rate": mapping(figure()),
        "majority_class_rate": mapping(figure()), "n_classes": count(),
        "n_features": count(), "feature_names": array(string()),
        "sensitive_features": array(string()), "groups": groups,
        "source": string(), "licence": string(), "sha256": mapping(string()),
        "split": string(), "proxies": array(string()), "sensitive_as_inputs": boolean(),
        "split_seed": nullable(integer()), "stratified": boolean(),
        "favourable": scalar(), "favourable_label": integer(),
        "one_vs_rest": obj(optional={"positive": string(), "rest": array(string())}),
        "bins": mapping(array(number())),
        "warnings": array(obj(optional={"kind": string(), "column": string(),
                                        "message": string()})),
        "predictions": obj(optional={"column": string(), "predicted_positive": array(string()),
                                     "score": string(), "threshold": number()}),
        "filters": array(obj(required={"column": string(), "op": string(),
                                       "value": anything()})),
        "rows_before_filters": count(), "rows_after_filters": count(),
        # One caveat, or a list of them (the report shows either).
        "caveat": {"type": ["string", "array", "null"], "items": string()}})


def network_schema() -> Schema:
    sizes = array(count())
    return obj(optional={
        "kind": string(), "n_parameters": count(), "n_inputs": count(), "hidden": sizes,
        "n_outputs": count(), "activation": string(), "dropout": number(), "l2": number(),
        "image_shape": sizes, "filters": sizes, "kernel_size": count(), "pool_size": count(),
        "vocabulary_size": count(), "sequence_length": count(), "embedding_dim": count(),
        "units": count()})


def training_schema() -> Schema:
    return obj(optional={
        "epochs": count(), "batch_size": count(), "learning_rate": number(),
        "beta_1": number(), "beta_2": number(), "epsilon": number(),
        "early_stopping": boolean(), "patience": count(), "torch_threads": nullable(count())})


def parity_schema() -> Schema:
    """The ``parity`` section (``twinaudit.audits.parity.parity_audit``): the first pair of
    implementations, and with three or more every further pair's section in ``pairs``."""
    pair = pair_schema()
    return obj(optional={**pair["properties"], "pairs": array(pair)})


def pair_schema() -> Schema:
    """One pair of implementations' parity section."""
    return obj(optional={
        **parity_checks(),
        "frameworks": array(string()),
        "chaos": nullable(obj(optional={
            "framework": string(), "seed": integer(), "perturbation": string(),
            "multiple": number(), "early_ratio": figure(), "late_ratio": figure(),
            "max_ratio": figure(), "inside": boolean(), "text": string(),
            "epochs": array(obj(optional={
                "epoch": count(), "ratio": figure(),
                **{f"{who}_{what}": figure() for who in ("twins", "self")
                   for what in ("parameter_distance", "max_abs_logit_diff")}}))})),
        "dropout_disabled": boolean(),
        "per_seed": array(obj(optional={
            "seed": integer(), "proof": proof_of_seed(),
            "accuracy": mapping(figure()), "prediction_agreement": figure(),
            "reconstruction_error": mapping(figure()),
            "divergence": array(obj(optional={
                "epoch": count(), "parameter_distance": figure(),
                "max_abs_logit_diff": figure(), "mean_abs_logit_diff": figure()}))})),
        "reconstruction_error": framework_comparison()})


def parity_checks() -> dict[str, Schema]:
    """The verdict, the proof's summary and the accuracy verdict (also recorded for the
    reweighed twins)."""
    stage = {"max": figure(), "max_ratio": figure(), "passed": boolean()}
    return {
        "verdict": obj(optional={"passed": boolean(), "outcome": string(), "text": string()}),
        "proof": obj(optional={
            "passed": boolean(), "text": string(), "exact_tolerance": number(),
            "floor_multiple": number(),
            "caught_by": nullable(obj(optional={"layer": string(), "stage": string()})),
            "exact": mapping(obj(optional=stage)), "float32": mapping(obj(optional=stage))}),
        "accuracy": framework_comparison()}


def proof_of_seed() -> Schema:
    """One seed's arithmetic proof (``twinaudit.audits.proof.prove``), per stage and tensor."""
    stage = obj(optional={"per_tensor": mapping(figure()), "cross": mapping(figure()),
                          "max": figure(), "max_ratio": figure(),
                          "worst_tensor": nullable(string()), "passed": boolean()})
    return obj(optional={"seed": integer(), "exact": mapping(stage), "float32": mapping(stage)})


def prediction_agreement() -> Schema:
    return obj(optional={"mean": figure(), "min": figure()})


def paired_change() -> Schema:
    """``twinaudit.audits.equivalence.paired_change``: a change read on seed pairs."""
    return obj(optional={"n_seeds": count(), "mean": figure(), "ci": interval(),
                         "level": number(),
                         "reading": one_of("higher", "lower", "no clear change", "undecided")})


def before_after() -> Schema:
    """``twinaudit.fairness.by_twin.before_after``: accuracy and every disparity of a variant
    against the baseline twins, per framework."""
    over_seeds = obj(optional={"mean": figure(), "std": figure(), "seed_ci": interval(),
                               "ci_first_seed": interval(), "n_seeds": count()})
    # The report indexes both sides of a change.
    change = obj(required={"before": over_seeds, "after": over_seeds},
                 optional={"change": figure(), "paired": paired_change()})
    return mapping(obj(optional={"accuracy": change, "group_sets": mapping(mapping(change))}))


def float64_proof() -> Schema:
    """A variant's own float64 twin proof (adversarial, DP-SGD)."""
    return obj(optional={"passed": boolean(), "max_difference": figure(),
                         "tolerance": number(), "steps": count(), "precision": string(),
                         "text": string()})


def mitigation_schema() -> Schema:
    effect = {"fairness": fairness_by_twin(), "before_after": before_after(),
              "groups": array(string()), "pooled_groups": array(string())}
    parity = obj(optional={**parity_checks(), "prediction_agreement": prediction_agreement()})
    retrained = {"twins": array(twin_summary()), "parity": parity, **effect}
    resampled = obj(optional={
        "scheme": one_of("uniform", "preferential"), "chosen_by": string(),
        "cells": array(obj(required={"group": string(), "label": integer(),
                                     "before": count(), "after": count()})),
        "rows": obj(optional={"repeated": count(), "left_out": count(), "total": count()}),
        **retrained})
    reduction = obj(optional={
        "constraints": string(), "eps": number(), "max_iter": count(), "grid_size": count(),
        "estimator": string(),
        "twins": array(obj(required={"framework": string(), "seed": integer()},
                           optional={"test_accuracy": figure(), "n_trained": count(),
                                     "n_used": count(), "n_constant": count(),
                                     "fit_seconds": number()})),
        "prediction_agreement": prediction_agreement(), **effect})
    return obj(optional={
        "reweighing": obj(optional={
            "weights": obj(optional={"min": figure(), "max": figure(), "mean": figure()}),
            **retrained}),
        "uniform_resampling": resampled, "preferential_resampling": resampled,
        "adversarial": obj(optional={
            "constraints": string(), "alpha": number(), "adversary": string(),
            "epochs": count(), "early_stopping": boolean(),
            "twins": array(twin_summary()),
            "parity": obj(optional={"proof": float64_proof(),
                                    "prediction_agreement": prediction_agreement()}),
            **effect}),
        "exponentiated_gradient": reduction, "grid_search": reduction,
        "threshold_optimizer": obj(optional={
            "constraints": string(), "fitted_on": string(), **effect})})


def privacy_schema() -> Schema:
    with_ci = obj(optional={"value": figure(), "ci": interval(), "reason": string()})
    figures = {"n_members": count(), "n_non_members": count(), "auc": figure(),
               "auc_ci": interval(), "tpr_at_fpr": mapping(with_ci), "reason": string()}
    by_group = mapping(obj(optional={
        "groups": array(obj(required={"group": string()}, optional=figures)),
        "gap": nullable(obj(optional={"value": figure(), "ci": interval(),
                                      "highest": string(), "lowest": string()}))}))
    twin = obj(required={"framework": string(), "seed": integer()}, optional={
        "overall": obj(optional={**figures, "roc": obj(optional={
            "fpr": array(number()), "tpr": array(figure())})}),
        "by_group": by_group, "interval": string(), "confidence": number()})
    attack = obj(optional={
        "twins": array(twin),
        "by_framework": obj(optional={
            "frameworks": mapping(obj(optional={"auc_mean": figure(),
                                                "auc_seed_ci": interval()})),
            "paired": obj(optional={"reference": string(), "other": string(),
                                    "auc": paired_change(),
                                    "by_group": mapping(mapping(paired_change())),
                                    "reading": string()})}),
        "shadows": count(), "shadow_training": string(), "variance": string(),
        "shadow_cache": array(one_of("hit", "miss", "off"))})
    group_cost = obj(required={"group": string()}, optional={
        "train_rows": count(), "test_rows": count(), "before": figure(), "after": figure(),
        "loss": paired_change(), "rows_ci": interval()})
    dp_budget = obj(required={"target_epsilon": number(), "noise_multiplier": number()},
                    optional={
        "delta": number(), "sampling": one_of("poisson"), "sampling_rate": number(),
        "steps": count(), "epochs": count(), "expected_batch_size": count(),
        "accountant": string(), "clipping_norm": number(),
        "epsilon": obj(optional={"rdp": figure(), "pld": figure()}),
        "twins": array(twin_summary()), "fairness": fairness_by_twin(),
        "before_after": before_after(),
        "group_accuracy": mapping(mapping(obj(optional={
            "groups": array(group_cost),
            "smallest_vs_largest": obj(optional={"smallest": string(), "largest": string(),
                                                 "difference": paired_change(),
                                                 "rows_ci": interval()})}))),
        "attack": attack,
        "parity": obj(optional={"proof": float64_proof(),
                                "prediction_agreement": prediction_agreement()})})
    return obj(optional={
        "candidates": obj(optional={"members": count(), "non_members": count(),
                                    "random_state": integer(), "balance": string(),
                                    "fprs": array(number())}),
        "attacks": obj(optional={"loss_threshold": attack, "lira": attack}),
        "dp_sgd": obj(optional={"clipping_norm": number(), "delta": number(),
                                "budgets": array(dp_budget)})})


def anomaly_schema() -> Schema:
    return obj(optional={
        "flag_quantile": number(),
        "thresholds": array(obj(required={"framework": string(), "seed": integer()},
                                optional={"threshold": figure()}))})


def counterfactual_schema() -> Schema:
    seed_entry = obj(optional={
        "groups": mapping(obj(optional={"gap": figure(), "ci": interval(),
                                        "mean_score": figure()})),
        "spread": figure(), "spread_ci": interval()})
    category = obj(optional={
        "groups": mapping(obj(optional={"terms": array(string()),
                                        "in_vocabulary": figure()})),
        "twins": mapping(mapping(seed_entry)), "spread": framework_comparison()})
    return obj(optional={
        "templates": array(string()), "n_templates": count(), "n_resamples": count(),
        "confidence": number(), "categories": mapping(category)})


def attribution_schema() -> Schema:
    """The three layouts (``kind``) and the not-applicable one share one open object: each
    key has one meaning whichever layout writes it."""
    pair = obj(optional={
        "seed": integer(), "seeds": array(integer()), "frameworks": array(string()),
        "n_rows": count(), "n_rows_spearman": count(), "k": count(),
        "heat_map_pearson": array(figure()), "heat_map_cosine": array(figure()),
        **{name: figure() for name in (
            "spearman", "top_k_overlap", "cosine_median", "cosine_p5", "spearman_median",
            "spearman_p5", "heat_map_pearson_mean", "heat_map_pearson_min",
            "heat_map_cosine_mean", "row_cosine_median", "row_cosine_p5")}})
    agreement = obj(optional={
        "frameworks": array(pair), "seeds": mapping(array(pair)),
        "summary": obj(optional={"frameworks": nullable(mapping(figure())),
                                 "seeds": nullable(mapping(figure()))})})
    token = obj(optional={"token": string(), "mean": figure(), "count": count()})
    twin = obj(optional={
        "status": string(), "reason": nullable(string()), "error": nullable(string()),
        "seconds": figure(), "n_rows": count(), "explained_rows": count(),
        "metric_rows": count(), "metrics_note": string(),
        # The report sums importances column by column: numbers only.
        "global_importance": array(number()), "top_features": array(string()),
        "completeness": obj(optional={
            "threshold": number(), "relative_delta": figure(), "flagged": boolean(),
            "max_abs_delta": figure(), "median_row_relative_delta": figure(),
            "max_row_relative_delta": figure(), "n_rows_flagged": count()}),
        "infidelity": figure(), "sensitivity_max": figure(),
        "fairness": obj(optional={"share": mapping(figure()),
                                  "share_by_group": {"type": "object"},
                                  "group_differences": {"type": "object"}}),
        # [class][row][column]; null for a class without explained rows.
        "heat_maps": array(nullable(array(array(figure())))),
        "top_tokens": obj(optional={"positive": array(token), "negative": array(token)})})
    example = obj(optional={
        "row_id": integer(), "label": scalar(), "group": mapping(nullable(scalar())),
        "tokens": array(string()),
        "twins": mapping(obj(optional={
            "attributions": array(figure()), "log_odds": figure(),
            "baseline_log_odds": figure(), "delta": figure()}))})
    method = obj(optional={
        "twins": mapping(twin), "agreement": agreement, "examples": array(example),
        "captum_check": obj(optional={
            "status": string(), "reason": nullable(string()), "twin": string(),
            "n_rows": count(), "max_abs_difference": figure(), "cosine_p5": figure()})})
    return obj(optional={
        "status": string(), "reason": nullable(string()),
        "kind": one_of("tabular", "image", "text"), "target": string(),
        "settings": obj(optional={
            "split": string(), "n_rows": nullable(count()),
            "integrated_gradients_rows": count(), "n_rows_available": count(),
            "random_state": nullable(integer()), "n_steps": count(),
            "integration_method": string(), "baselines": string(),
            "relative_delta_threshold": number(), "top_k": count(),
            "min_token_count": count(), "explained_class": string(),
            "attributed_through": string()}),
        "feature_names": array(string()),
        "columns": obj(optional={"sensitive": array(string()), "proxy": array(string()),
                                 "matched": mapping(array(string()))}),
        "image_shape": array(count()), "classes": array(string()),
        "rows_per_class": array(count()), "methods": mapping(method)})


def benchmarks_schema() -> Schema:
    """``twinaudit bench``'s rows; a row also carries the benchmark's own extra information."""
    samples = array(number())
    row = obj(optional={
        "name": string(), "group": nullable(string()), "framework": nullable(string()),
        "implementation": nullable(string()), "rounds": count(), "samples_s": samples,
        "reference": nullable(string()), "reference_samples_s": samples,
        **{name: figure() for name in ("median_s", "mean_s", "min_s", "max_s",
                                       "reference_median_s", "ratio")}})
    return obj(optional={
        "profile": string(), "suite": string(), "machine": {"type": "object"},
        "files": array(string()), "rows": array(row)})


def outputs_schema() -> Schema:
    return obj(optional={"predictions": string(), "counts": string(), "report": string()})


def section_schemas() -> dict[str, Schema]:
    """Every top-level key's schema, in SECTION_TABLE's order."""
    return {
        "schema_version": {"type": "integer", "const": SCHEMA_VERSION},
        "kind": {"type": "string", "const": RESULTS_KIND},
        "twinaudit_version": string(),
        "audit": audit_schema(),
        "environment": environment_schema(),
        "data": data_schema(),
        "network": network_schema(),
        "training": training_schema(),
        "twins": array(twin_summary()),
        "parity": parity_schema(),
        "fairness": fairness_by_twin(settings=True),
        "mitigation": mitigation_schema(),
        "privacy": privacy_schema(),
        "anomaly": anomaly_schema(),
        "counterfactual": counterfactual_schema(),
        "attribution": attribution_schema(),
        "benchmarks": benchmarks_schema(),
        "outputs": outputs_schema(),
        "execution": obj(required={"kind": {"enum": ["in_process", "local_cluster",
                                                      "cluster"]},
                                   "workers": integer(0)},
                         optional={"scheduler": string()}),
        "run_seconds": figure(),
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of results.json, every section's inside included."""
    properties = {name: {"description": SECTION_TABLE[name][1], **schema}
                  for name, schema in section_schemas().items()}
    return {"$schema": JSON_SCHEMA_DRAFT, "title": f"twinaudit results (schema {SCHEMA_VERSION})",
            "type": "object", "properties": properties, "required": list(READER_REQUIRED),
            "additionalProperties": False}
