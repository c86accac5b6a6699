"""What each report section shows, computed from results.json as plain data for the template.

Each ``*_section`` function takes the whole results dict and returns the section's view, or
``None`` when the run has no data for it (the template then leaves the section out). Reading
is defensive: a missing or reshaped field leaves a dash, never a crash, because results files
of older and newer runs are re-rendered with this code.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from typing import Any

from twinaudit.report.charts import Bar, bar_chart, diverging_colour, heat_map, line_chart
from twinaudit.report.counterfactual_view import counterfactual_section, task_notes
from twinaudit.report.fairness_view import fairness_section, mitigation_section, worst_disparity
from twinaudit.report.formatting import is_number, number
from twinaudit.report.tree import flatten

TOP_FEATURES = 15


def get(tree: Any, *keys: Any, default: Any = None) -> Any:
    """``tree[k1][k2]...`` or ``default`` when any step is missing or of the wrong type."""
    node = tree
    for key in keys:
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
            node = node[key]
        else:
            return default
    return node


def _check(status: str, label: str, detail: str) -> dict:
    return {"status": status, "label": label, "detail": detail}


# ---------------------------------------------------------------------------------------------
# 1. Verdict


def verdict_section(results: dict, fairness: dict | None) -> dict:
    """One line per check (pass / warn / fail) and the three numbers that matter most."""
    checks = _gate_checks(results) + _parity_checks(results.get("parity")) \
        + _fairness_checks(fairness)
    accuracy = {fw: get(figure, "mean") for fw, figure in
                (get(results, "parity", "accuracy", "by_framework") or {}).items()}
    if not accuracy:
        accuracy = _accuracy_from_twins(results.get("twins"))
    return {"checks": checks, "accuracy": accuracy, "worst": worst_disparity(fairness),
            "agreement": get(results, "parity", "prediction_agreement")}


def _accuracy_from_twins(twins: Any) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for twin in twins if isinstance(twins, list) else []:
        if is_number(get(twin, "test_accuracy")):
            values.setdefault(str(twin.get("framework")), []).append(twin["test_accuracy"])
    return {fw: statistics.fmean(v) for fw, v in values.items()}


def _gate_checks(results: dict) -> list[dict]:
    """Checks a gate stored in the results, if one ran (``gate.checks``)."""
    checks = get(results, "gate", "checks") or []
    statuses = {"pass": "pass", "fail": "fail", "warn": "warn", "inconclusive": "warn",
                "skipped": "info"}
    return [_check(statuses.get(str(c.get("verdict")), "info"), f"Gate: {c.get('name', '?')}",
                   str(c.get("message", ""))) for c in checks if isinstance(c, Mapping)]


def _parity_checks(parity: Any) -> list[dict]:
    if not isinstance(parity, Mapping):
        return []
    checks = []
    for key, label, field in (("step0", "Step-0 parity", "max_abs_logit_diff"),
                              ("one_step", "One-step parity", "max_rel_param_diff")):
        entry = parity.get(key) or {}
        passed = entry.get("passed")
        what = "max |Δ logit|" if key == "step0" else "max relative Δ parameter"
        checks.append(_check("pass" if passed else "fail" if passed is False else "info", label,
                             f"{what} {number(entry.get(field))} "
                             f"(tolerance {number(entry.get('tolerance'))})"))
    accuracy = parity.get("accuracy") or {}
    within = accuracy.get("within_seed_noise")
    gap = f"gap {number(accuracy.get('difference'), 4)}, threshold " \
          f"{number(accuracy.get('threshold'), 4)}"
    if within is None:
        checks.append(_check("info", "Accuracy gap torch − keras",
                             accuracy.get("reason") or "not judged"))
    else:
        checks.append(_check("pass" if within else "warn", "Accuracy gap torch − keras",
                             ("within seed noise" if within else "larger than seed noise")
                             + f" ({gap})"))
    return checks


def _fairness_checks(fairness: dict | None) -> list[dict]:
    if not fairness:
        return []
    checks = []
    for group_set in fairness["group_sets"]:
        for framework, flag in group_set["four_fifths"].items():
            if not flag["decided"]:
                continue
            status = "warn" if flag["violated"] else "pass"
            checks.append(_check(status, f"Four-fifths rule, {group_set['name']}, {framework}",
                                 f"violated in {flag['violated']} of {flag['decided']} seeds; "
                                 f"selection-rate ratio {number(flag['ratio'].mean)}"))
        verdicts = [row["verdict"] for row in group_set["disparities"]
                    if row["verdict"] and row["verdict"].get("within_seed_noise") is not None]
        if verdicts:
            apart = sum(not v["within_seed_noise"] for v in verdicts)
            checks.append(_check("warn" if apart else "pass",
                                 f"Twin agreement on disparities, {group_set['name']}",
                                 f"{len(verdicts) - apart} of {len(verdicts)} disparities agree "
                                 "within seed noise"))
        if group_set["small_groups"]:
            names = ", ".join(row["label"] for row in group_set["small_groups"])
            checks.append(_check("warn", f"Small groups, {group_set['name']}",
                                 f"under {fairness['small_group_rows']} rows: {names}"))
    return checks


# ---------------------------------------------------------------------------------------------
# 2. Model card (Mitchell et al. 2019)


def model_card_section(results: dict) -> list[dict]:
    """The nine model-card headings, each a list of (field, value) with ``None`` = to fill."""
    data, network = results.get("data") or {}, results.get("network") or {}
    training = results.get("training") or {}
    environment = results.get("environment") or {}
    layers = " → ".join(str(n) for n in [network.get("n_inputs"), *(network.get("hidden") or []),
                                         network.get("n_outputs")] if n is not None)
    sensitive = ", ".join(map(str, data.get("sensitive_features") or [])) or None
    return [
        {"heading": "Model details", "fields": [
            ("Model", f"{network.get('kind', '?').upper()} {layers} ({network.get('activation', '?')}), "
                      f"{number(network.get('n_parameters'))} parameters"),
            ("Implementations", ", ".join(environment.get("frameworks") or []) or None),
            ("Training", f"{training.get('epochs', '?')} epochs, batch {training.get('batch_size', '?')}, "
                         f"Adam lr {training.get('learning_rate', '?')}, seeds "
                         f"{', '.join(map(str, environment.get('seeds') or []))}"),
            ("Date", environment.get("timestamp")),
            ("Owner, contact, licence, version", None)]},
        {"heading": "Intended use", "fields": [
            ("Purpose of this audit", get(results, "audit", "description")),
            ("Primary intended uses and users", None), ("Out-of-scope uses", None)]},
        {"heading": "Factors", "fields": [
            ("Groups audited", sensitive),
            ("Sensitive features as model inputs", data.get("sensitive_as_inputs")),
            ("Known proxies", ", ".join(data.get("proxies") or []) or None),
            ("Other relevant factors (instrumentation, environment)", None)]},
        {"heading": "Metrics", "fields": [
            ("Performance", "accuracy on the test split, mean and spread over seeds"),
            ("Fairness", "group selection, true/false positive rates and their disparities, "
                         "with group-stratified bootstrap intervals"),
            ("Decision threshold", "0.5 on the predicted probability")]},
        {"heading": "Evaluation data", "fields": [
            ("Data set", data.get("name")),
            ("Test rows", number(get(data, "rows", "test"))), ("Split", data.get("split"))]},
        {"heading": "Training data", "fields": [
            ("Training rows", number(get(data, "rows", "train"))),
            ("Validation rows", number(get(data, "rows", "validation"))),
            ("Source", data.get("source"))]},
        {"heading": "Quantitative analyses", "fields": [
            ("Unitary and intersectional results", "see Fairness and Twin parity below")]},
        {"heading": "Ethical considerations", "fields": [
            ("Data caveat", data.get("caveat")),
            ("Risks, harms and mitigations in deployment", None)]},
        {"heading": "Caveats and recommendations", "fields": [
            ("From this run", "results on one data split; intervals are bootstrap intervals "
                              "of the test split, not of the population"),
            ("Recommendations", None)]},
    ]


# ---------------------------------------------------------------------------------------------
# 3. Data


def data_section(results: dict) -> dict | None:
    data = results.get("data")
    if not isinstance(data, Mapping):
        return None
    rows = data.get("rows") or {}
    splits = [{"split": name, "rows": count, "positive_rate": get(data, "positive_rate", name)}
              for name, count in rows.items()]
    groups = []
    for feature, by_split in (data.get("groups") or {}).items():
        names = sorted({g for split in by_split.values() for g in split})
        groups.append({"feature": feature, "splits": list(by_split), "rows": [
            {"group": name, "by_split": {split: by_split[split].get(name) or {}
                                         for split in by_split}} for name in names]})
    caveats = data.get("caveat")
    return {"data": data, "splits": splits, "groups": groups,
            "caveats": [caveats] if isinstance(caveats, str) else list(caveats or []),
            "sha256": data.get("sha256") if isinstance(data.get("sha256"), Mapping) else {}}


# ---------------------------------------------------------------------------------------------
# 4. Twin parity


def parity_section(results: dict) -> dict | None:
    parity = results.get("parity")
    if not isinstance(parity, Mapping):
        return None
    per_seed = [row for row in parity.get("per_seed") or [] if isinstance(row, Mapping)]
    series = {}
    for row in per_seed:
        points = [(p.get("epoch", i) + 1, p.get("max_abs_logit_diff"))
                  for i, p in enumerate(row.get("divergence") or [])]
        series[f"seed {row.get('seed')}"] = points
    chart = line_chart(series, title="Torch–Keras divergence over training, per seed",
                       x_label="epoch", y_label="max |Δ logit| on test", log_y=True) \
        if series else None
    return {"parity": parity, "per_seed": per_seed, "chart": chart,
            "accuracy": parity.get("accuracy") or {}}


# ---------------------------------------------------------------------------------------------
# 7. Attribution


def attribution_section(results: dict) -> dict | None:
    """Global importance of both twins side by side, twin agreement against seed noise,
    attribution share on sensitive features and proxies, and what could not be computed.

    Every figure of a framework is the mean over its seeds; agreement "between frameworks"
    compares twins of the same seed, "between seeds" twins of one framework. Image and text
    twins (``attribution.kind``) get their own views: heat maps per class, or top tokens and
    example sentences; a network the audit cannot explain gets its reason.
    """
    attribution = results.get("attribution")
    if not isinstance(attribution, Mapping):
        return None
    if attribution.get("status") == "not_applicable":
        return {"kind": "not_applicable", "reason": attribution.get("reason")}
    if not isinstance(attribution.get("methods"), Mapping):
        return None
    if attribution.get("kind") == "image":
        return _image_attribution(attribution)
    if attribution.get("kind") == "text":
        return _text_attribution(attribution)
    features = list(attribution.get("feature_names") or [])
    methods = attribution["methods"]
    agreement, shares, skipped, completeness = [], [], [], []
    for method, outcome in methods.items():
        twins = outcome.get("twins") or {}
        summary = get(outcome, "agreement", "summary") or {}
        agreement.append({"method": method, "frameworks": summary.get("frameworks"),
                          "seeds": summary.get("seeds")})
        for framework, entries in _twins_by_framework(twins).items():
            ok = [entry for entry in entries if entry.get("status") == "ok"]
            if not ok:
                reasons = {entry.get("reason") or entry.get("error") or entry.get("status")
                           for entry in entries}
                skipped.append({"method": method, "framework": framework,
                                "status": entries[0].get("status"),
                                "reason": "; ".join(sorted(map(str, reasons)))})
                continue
            shares.append({"method": method, "framework": framework, **{
                kind: _mean([get(entry, "fairness", "share", kind) for entry in ok])
                for kind in ("sensitive", "proxy", "sensitive_or_proxy")}})
        if method == "integrated_gradients":
            completeness = _completeness(twins)
    chart = _importance_chart(methods.get("integrated_gradients"), features)
    return {"kind": "tabular", "settings": attribution.get("settings") or {},
            "target": attribution.get("target"),
            "columns": attribution.get("columns") or {}, "chart": chart,
            "agreement": agreement, "shares": shares, "skipped": skipped,
            "completeness": completeness,
            "captum_check": get(methods, "integrated_gradients", "captum_check")}


def _completeness(twins: Mapping) -> list[dict]:
    """Integrated Gradients' completeness per framework: mean relative delta over seeds."""
    rows = []
    for framework, entries in _twins_by_framework(twins).items():
        ok = [entry for entry in entries if entry.get("status") == "ok"]
        if ok:
            rows.append({"framework": framework, **{
                key: _mean([get(entry, "completeness", key) for entry in ok])
                for key in ("relative_delta", "median_row_relative_delta")},
                "flagged": any(get(entry, "completeness", "flagged") for entry in ok)})
    return rows


def _ordered_twins(twins: Mapping) -> list[str]:
    """Twin keys "framework/seed" by seed, frameworks in the run's order: twins side by side."""
    frameworks = list(dict.fromkeys(str(key).split("/")[0] for key in twins))

    def order(key: str) -> tuple:
        framework, _, seed = str(key).partition("/")
        return (int(seed) if seed.isdigit() else 0, seed, frameworks.index(framework))

    return sorted((str(key) for key, entry in twins.items() if isinstance(entry, Mapping)
                   and entry.get("status") == "ok"), key=order)


def _network_attribution(attribution: Mapping) -> tuple[dict, dict]:
    """What the image and text views share: settings, target, agreement, completeness."""
    outcome = get(attribution, "methods", "integrated_gradients")
    outcome = outcome if isinstance(outcome, Mapping) else {}
    summary = get(outcome, "agreement", "summary")
    summary = summary if isinstance(summary, Mapping) else {}
    return outcome, {
        "kind": attribution.get("kind"), "settings": attribution.get("settings") or {},
        "target": attribution.get("target"),
        "agreement": {"frameworks": summary.get("frameworks"), "seeds": summary.get("seeds")},
        "completeness": _completeness(_mapping(outcome.get("twins"))),
        "captum_check": outcome.get("captum_check"),
    }


def _pair_mean(pairs: list, name: str, index: int) -> float | None:
    """Mean over twin pairs of the ``index``-th value of a per-class figure."""
    return _mean([get(pair, name, index) for pair in pairs if isinstance(pair, Mapping)])


def _image_attribution(attribution: Mapping) -> dict:
    """Heat maps per class, every twin a row (torch and Keras of a seed adjacent)."""
    outcome, view = _network_attribution(attribution)
    twins = _mapping(outcome.get("twins"))
    classes = [str(c) for c in attribution.get("classes") or []]
    keys = _ordered_twins(twins)
    panels = [[_grid(get(twins, key, "heat_maps", index)) for index in range(len(classes))]
              for key in keys]
    chart = heat_map(panels, row_labels=keys, column_labels=classes,
                     title="Integrated Gradients per class: mean attribution toward the true "
                           "class", value_label="mean attribution (log-softmax)") \
        if keys and classes else None
    framework_pairs = _mappings(get(outcome, "agreement", "frameworks"))
    by_framework = get(outcome, "agreement", "seeds")
    seed_pairs = [pair for pairs in (by_framework.values() if isinstance(by_framework, Mapping)
                                     else []) for pair in _mappings(pairs)]
    per_class = [{"label": label, "rows": get(_list(attribution.get("rows_per_class")), index),
                  "frameworks": _pair_mean(framework_pairs, "heat_map_pearson", index),
                  "seeds": _pair_mean(seed_pairs, "heat_map_pearson", index)}
                 for index, label in enumerate(classes)]
    return {**view, "chart": chart, "per_class": per_class}


def _grid(value: Any) -> list[list[float | None]] | None:
    """A heat map as rows of numbers (anything else None), or None when it is not a grid."""
    if not isinstance(value, list) or not value or \
            not all(isinstance(line, list) and line for line in value):
        return None
    return [[v if is_number(v) else None for v in line] for line in value]


def _text_attribution(attribution: Mapping) -> dict:
    """Top tokens per twin, example sentences with per-token scores, twin agreement."""
    outcome, view = _network_attribution(attribution)
    twins = _mapping(outcome.get("twins"))
    keys = _ordered_twins(twins)
    top = {}
    for direction in ("positive", "negative"):
        lists = [_mappings(get(twins, key, "top_tokens", direction)) for key in keys]
        depth = max((len(entries) for entries in lists), default=0)
        top[direction] = [[entries[rank] if rank < len(entries) else None for entries in lists]
                          for rank in range(depth)]
    examples = []
    for example in _mappings(outcome.get("examples")):
        tokens = [str(token) for token in _list(example.get("tokens"))]
        entries = {key: entry for key, entry in (example.get("twins") or {}).items()
                   if isinstance(entry, Mapping)} if isinstance(example.get("twins"),
                                                                Mapping) else {}
        scores = {key: [value if is_number(value) else None
                        for value in _list(entry.get("attributions"))][:len(tokens)]
                  for key, entry in entries.items()}
        # One scale per sentence, shared by its twins: their shading compares directly.
        scale = max((abs(v) for values in scores.values() for v in values if v is not None),
                    default=0.0)
        rows = [{"twin": key, "log_odds": entry.get("log_odds"),
                 "baseline_log_odds": entry.get("baseline_log_odds"),
                 "cells": [{"value": value, "colour": diverging_colour(value, scale)}
                           for value in scores[key] + [None] * (len(tokens) - len(scores[key]))]}
                for key, entry in entries.items()]
        group = example.get("group")
        examples.append({"tokens": tokens, "label": example.get("label"),
                         "group": group if isinstance(group, Mapping) else {}, "rows": rows})
    return {**view, "twins": keys, "top": top, "examples": examples}


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _mappings(value: Any) -> list[Mapping]:
    """The mappings of a list (a reshaped or hand-edited results file may hold anything)."""
    return [entry for entry in _list(value) if isinstance(entry, Mapping)]


def _twins_by_framework(twins: Mapping) -> dict[str, list[Mapping]]:
    """Twin entries keyed "framework/seed", grouped by framework."""
    grouped: dict[str, list[Mapping]] = {}
    for key, entry in twins.items():
        if isinstance(entry, Mapping):
            grouped.setdefault(str(key).split("/")[0], []).append(entry)
    return grouped


def _mean(values: list) -> float | None:
    numbers = [float(v) for v in values if is_number(v)]
    return sum(numbers) / len(numbers) if numbers else None


def _importance_chart(outcome: Any, features: list[str]):
    """Mean |attribution| per feature, both frameworks side by side, top features overall."""
    if not isinstance(outcome, Mapping) or not features:
        return None
    importance: dict[str, list[float]] = {}
    for framework, entries in _twins_by_framework(outcome.get("twins") or {}).items():
        rows = [entry["global_importance"] for entry in entries
                if entry.get("status") == "ok" and len(entry.get("global_importance") or [])
                == len(features)]
        if rows:
            importance[framework] = [sum(column) / len(rows) for column in zip(*rows)]
    if not importance:
        return None
    overall = [max(values[i] for values in importance.values()) for i in range(len(features))]
    top = sorted(range(len(features)), key=lambda i: overall[i], reverse=True)[:TOP_FEATURES]
    series = {f"{framework} (mean of {len(_twins_by_framework(outcome['twins'])[framework])} "
              "seeds)": [Bar(values[i]) for i in top]
              for framework, values in importance.items()}
    return bar_chart([features[i] for i in top], series,
                     title=f"Integrated Gradients: global importance, top {len(top)} features",
                     value_label="mean |attribution| (log-odds)", digits=3)


# ---------------------------------------------------------------------------------------------
# 8. Benchmarks


#: The columns a reader compares; every other figure of a row stays in results.json.
BENCHMARK_COLUMNS = ("name", "framework", "implementation", "median_s", "p99_s", "ratio",
                     "ratio_ci", "reference", "accuracy", "rows_per_second",
                     "seconds_to_target", "peak_memory_mib", "rounds")


def benchmarks_section(results: dict) -> dict | None:
    benchmarks = results.get("benchmarks")
    rows = benchmarks.get("rows") if isinstance(benchmarks, Mapping) else benchmarks
    if not isinstance(rows, list) or not rows:
        return None
    rows = [row for row in rows if isinstance(row, Mapping)]
    present = {key for row in rows for key, value in row.items() if value is not None}
    columns = [c for c in BENCHMARK_COLUMNS if c in present]
    series: dict[str, list[Bar | None]] = {}
    # The chart is for comparisons measured side by side (twin vs plain); times of different
    # operations span microseconds to seconds and belong in the table.
    compared = {str(row.get("name")) for row in rows if row.get("implementation") == "plain"}
    charted = [row for row in rows if str(row.get("name")) in compared] or rows
    names = list(dict.fromkeys(str(row.get("name")) for row in charted))
    for row in charted:
        label = " ".join(str(row[key]) for key in ("framework", "implementation")
                         if row.get(key) and row.get(key) != "twin") or "—"
        series.setdefault(label, [None] * len(names))
        if is_number(row.get("median_s")):
            series[label][names.index(str(row.get("name")))] = Bar(row["median_s"] * 1e3)
    title = ("Median time, twin vs plain code in the same run" if compared
             else "Median time per benchmark")
    chart = bar_chart(names, series, title=title, value_label="ms",
                      digits=2) if any(b for bars in series.values() for b in bars) else None
    machine = benchmarks.get("machine") if isinstance(benchmarks, Mapping) else None
    return {"rows": rows, "columns": columns, "chart": chart,
            "machine": flatten(machine) if isinstance(machine, Mapping) else {},
            "notes": benchmarks.get("notes") if isinstance(benchmarks, Mapping) else None}


# ---------------------------------------------------------------------------------------------
# 9. Environment


def environment_section(results: dict) -> dict:
    environment = results.get("environment") or {}
    spec = get(results, "audit", "spec")
    return {"environment": environment,
            "packages": environment.get("packages") or {},
            "settings": flatten(environment.get("settings") or {}),
            "command": get(results, "audit", "command"),
            "spec": json.dumps(spec, indent=2, sort_keys=False) if spec else None}


def build_sections(results: dict) -> dict:
    """Every section's view, in report order; absent sections are ``None``."""
    fairness = fairness_section(results["fairness"]) if "fairness" in results else None
    return {
        "verdict": verdict_section(results, fairness),
        "model_card": model_card_section(results),
        "data": data_section(results),
        "parity": parity_section(results),
        "fairness": fairness,
        "counterfactual": counterfactual_section(results),
        "task_notes": task_notes(results),
        "mitigation": mitigation_section(results.get("mitigation"), results.get("fairness")),
        "attribution": attribution_section(results),
        "benchmarks": benchmarks_section(results),
        "environment": environment_section(results),
    }
