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
