"""The verdict: one line per check (pass / warn / fail) and the three numbers that matter most."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from twinaudit.report.formatting import is_number, number
from twinaudit.report.views._common import LOWER_IS_FAIRER_SUFFIX, get


def _check(status: str, label: str, detail: str) -> dict:
    return {"status": status, "label": label, "detail": detail}


def verdict_section(results: dict, fairness: dict | None) -> dict:
    """One line per check (pass / warn / fail) and the three numbers that matter most."""
    accuracy = _mean_accuracy(results)
    checks = _gate_checks(results) + _parity_checks(results.get("parity")) \
        + _quality_checks(accuracy, get(results, "data", "majority_class_rate", "test")) \
        + _fairness_checks(fairness)
    return {"checks": checks, "accuracy": accuracy, "worst": worst_disparity(fairness),
            "agreement": get(results, "parity", "prediction_agreement")}


def quality_warning(results: dict) -> str | None:
    """The model-quality check's words when it warns (``twinaudit run`` prints them)."""
    checks = _quality_checks(_mean_accuracy(results),
                             get(results, "data", "majority_class_rate", "test"))
    return next((check["detail"] for check in checks if check["status"] == "warn"), None)


def _mean_accuracy(results: dict) -> dict[str, Any]:
    """Mean test accuracy per framework: the parity audit's, the twins', or (a prediction
    table) the fairness audit's overall accuracy."""
    accuracy = {fw: get(figure, "mean") for fw, figure in
                (get(results, "parity", "accuracy", "by_framework") or {}).items()}
    if not accuracy:
        accuracy = _accuracy_from_twins(results.get("twins"))
    if not accuracy:
        for name, seeds in (get(results, "fairness", "twins") or {}).items():
            values = [get(audit, "overall", "metrics", "accuracy", "value")
                      for audit in (seeds or {}).values()]
            values = [value for value in values if is_number(value)]
            if values:
                accuracy[name] = statistics.fmean(values)
    return accuracy


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
    proof = get(parity, "proof", default={})
    passed = get(proof, "passed")
    checks = [_check("pass" if passed else "fail" if passed is False else "info",
                     "Twin proof (arithmetic)", str(get(proof, "text", default="not run")))]
    chaos = get(parity, "chaos")
    if isinstance(chaos, Mapping):
        inside = chaos.get("inside")
        checks.append(_check("pass" if inside else "fail" if inside is False else "info",
                             "Training drift", str(chaos.get("text", ""))))
    accuracy = get(parity, "accuracy", default={})
    status = {"equivalent": "pass", "undecided": "info", "different": "fail"}
    checks.append(_check(status.get(str(get(accuracy, "verdict")), "info"),
                         "Accuracy, torch − keras paired over seeds",
                         str(get(accuracy, "text", default="not judged"))))
    return checks


#: How far above always predicting the most frequent label a model must score to count as
#: having learned something worth auditing (two percentage points).
MAJORITY_MARGIN = 0.02


def _quality_checks(accuracy: Mapping[str, Any], majority: Any) -> list[dict]:
    """Accuracy against the majority-class baseline: fairness figures of a model that barely
    beats it describe little more than the label's balance."""
    means = {fw: value for fw, value in accuracy.items() if is_number(value)}
    if not means or not is_number(majority):
        return []
    low = [fw for fw, value in means.items() if value - majority < MAJORITY_MARGIN]
    figures = ", ".join(f"{fw} {number(value)}" for fw, value in means.items())
    detail = (f"mean test accuracy {figures} against {number(majority)} for always "
              "predicting the most frequent label")
    if low:
        detail += f"; {', '.join(low)} barely beat{'s' if len(low) == 1 else ''} it"
    return [_check("warn" if low else "pass", "Model quality vs the majority class", detail)]


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
        verdicts = [get(row, "verdict", "verdict") for row in group_set["disparities"]]
        counts = {word: verdicts.count(word) for word in ("equivalent", "undecided", "different")}
        if sum(counts.values()):
            checks.append(_check("warn" if counts["different"] else "pass",
                                 f"Twin agreement on disparities, {group_set['name']}",
                                 f"paired over seeds: {counts['equivalent']} equivalent, "
                                 f"{counts['undecided']} undecided, {counts['different']} "
                                 "different"))
        if group_set["small_groups"]:
            names = ", ".join(row["label"] for row in group_set["small_groups"])
            checks.append(_check("warn", f"Small groups, {group_set['name']}",
                                 f"under {fairness['small_group_rows']} rows: {names}"))
    return checks


def worst_disparity(section: dict | None) -> dict | None:
    """The largest headline difference over group sets (of the fairness view), for the
    verdict's key numbers."""
    if not section:
        return None
    best = None
    for group_set in section["group_sets"]:
        for row in group_set["disparities"]:
            if not (row["headline"] and row["name"].endswith(LOWER_IS_FAIRER_SUFFIX)):
                continue
            figures = [f["figure"] for f in row["by_framework"].values()
                       if f["figure"].mean is not None]
            if not figures:
                continue
            mean = statistics.fmean(f.mean for f in figures)
            if best is None or mean > best["mean"]:
                lows = [f.low for f in figures if f.low is not None]
                highs = [f.high for f in figures if f.high is not None]
                best = {"name": row["name"], "group_set": group_set["name"], "mean": mean,
                        "ci": [min(lows), max(highs)] if lows and highs else None,
                        "n_twins": sum(f.n_seeds for f in figures)}
    return best
