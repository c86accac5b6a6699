"""The privacy section: each attack's figures per framework (with the frameworks' paired
difference), its ROC curves per twin on log–log axes, leakage by group, and the DP-SGD
budgets with their ε, accuracy and headline disparity against the non-private twins, and
the accuracy each group loses (Bagdasaryan et al.'s disparate impact)."""

from __future__ import annotations

import math
from typing import Any

from twinaudit.report.charts import line_chart
from twinaudit.report.formatting import is_number
from twinaudit.report.views._common import HEADLINE_DISPARITIES, get

ATTACK_TITLES = {"loss_threshold": "Loss threshold (Yeom et al. 2018)",
                 "lira": "LiRA, offline (Carlini et al. 2022)"}


def privacy_section(results: dict) -> dict | None:
    privacy = results.get("privacy")
    if not isinstance(privacy, dict):
        return None
    attacks = [_attack_view(name, block) for name, block in (privacy.get("attacks") or {}).items()
               if isinstance(block, dict)]
    dp = privacy.get("dp_sgd") if isinstance(privacy.get("dp_sgd"), dict) else None
    budgets = [_budget_view(entry) for entry in (dp or {}).get("budgets", [])
               if isinstance(entry, dict)]
    return {"candidates": privacy.get("candidates") or {}, "attacks": attacks,
            "budgets": budgets, "dp": dp, "charts": _budget_charts(budgets)}


def _mean(values: list[Any]) -> float | None:
    numbers = [float(v) for v in values if is_number(v)]
    return sum(numbers) / len(numbers) if numbers else None


def _attack_view(name: str, block: dict) -> dict:
    twins = [twin for twin in block.get("twins", []) if isinstance(twin, dict)]
    frameworks = get(block, "by_framework", "frameworks", default={}) or {}
    rows = []
    for framework, summary in frameworks.items():
        own = [twin for twin in twins if twin.get("framework") == framework]
        rows.append({
            "framework": framework, "auc": get(summary, "auc_mean"),
            "auc_ci": get(summary, "auc_seed_ci"), "n_seeds": len(own),
            "tpr": {fpr: _mean([get(twin, "overall", "tpr_at_fpr", fpr, "value")
                                for twin in own])
                    for fpr in ("0.001", "0.01")}})
    series: dict[str, list[tuple[float, float | None]]] = {}
    for twin in twins:
        curve = get(twin, "overall", "roc") or {}
        points = [(math.log10(f), t) for f, t in zip(curve.get("fpr", []), curve.get("tpr", []),
                                                      strict=False) if is_number(f) and f > 0]
        if points:
            series[f"{twin.get('framework')} seed {twin.get('seed')}"] = points
    chart = None
    if series:
        chance = [(x, 10 ** x) for x, _ in next(iter(series.values()))]
        chart = line_chart(series, title=f"ROC, {ATTACK_TITLES.get(name, name)}",
                           x_label="false-positive rate (log10)",
                           y_label="true-positive rate", log_y=True,
                           reference=("chance (TPR = FPR)", chance))
    return {"name": name, "title": ATTACK_TITLES.get(name, name), "rows": rows,
            "paired": get(block, "by_framework", "paired"), "chart": chart,
            "groups": _group_rows(twins), "shadows": block.get("shadows")}


def _group_rows(twins: list[dict]) -> list[dict]:
    """Per group set and group: each framework's AUC (mean over seeds) and, per set, the
    first twin's gap between the most and least exposed groups."""
    if not twins:
        return []
    rows = []
    for set_name, block in (twins[0].get("by_group") or {}).items():
        for entry in block.get("groups", []):
            group = entry.get("group")
            by_framework: dict[str, list[Any]] = {}
            for twin in twins:
                match = [g for g in get(twin, "by_group", set_name, "groups", default=[])
                         if g.get("group") == group]
                by_framework.setdefault(str(twin.get("framework")), []).append(
                    match[0].get("auc") if match else None)
            rows.append({"group_set": set_name, "group": group,
                         "members": entry.get("n_members"),
                         "non_members": entry.get("n_non_members"),
                         "auc": {fw: _mean(values) for fw, values in by_framework.items()},
                         "note": entry.get("reason")})
        gap = block.get("gap")
        if isinstance(gap, dict):
            rows.append({"group_set": set_name, "group": f"gap: {gap.get('highest')} − "
                                                         f"{gap.get('lowest')}",
                         "gap": gap.get("value"), "gap_ci": gap.get("ci"),
                         "note": "first twin; its bootstrap interval"})
    return rows


def _budget_view(entry: dict) -> dict:
    twins = [twin for twin in entry.get("twins", []) if isinstance(twin, dict)]
    accuracy = {}
    for framework, table in (entry.get("before_after") or {}).items():
        accuracy[framework] = get(table, "accuracy")
    groups = []
    for framework, sets in (entry.get("group_accuracy") or {}).items():
        for set_name, block in sets.items():
            for row in block.get("groups", []):
                groups.append({"framework": framework, "group_set": set_name, **row})
            versus = block.get("smallest_vs_largest")
            if isinstance(versus, dict):
                groups.append({"framework": framework, "group_set": set_name,
                               "group": f"{versus.get('smallest')} (fewest rows) − "
                                        f"{versus.get('largest')} (most)",
                               "loss": versus.get("difference"),
                               "rows_ci": versus.get("rows_ci"), "versus": True})
    return {"target_epsilon": entry.get("target_epsilon"), "delta": entry.get("delta"),
            "noise_multiplier": entry.get("noise_multiplier"),
            "epsilon": entry.get("epsilon") or {}, "steps": entry.get("steps"),
            "sampling_rate": entry.get("sampling_rate"), "accuracy": accuracy,
            "n_twins": len(twins), "proof": get(entry, "parity", "proof"),
            "agreement": get(entry, "parity", "prediction_agreement"),
            "attack_auc": {fw: get(summary, "auc_mean") for fw, summary in
                           (get(entry, "attack", "by_framework", "frameworks") or {}).items()},
            "groups": groups, "before_after": entry.get("before_after") or {}}


def _budget_charts(budgets: list[dict]) -> list:
    """Accuracy, and each headline disparity of the first group set, against ε per
    framework, with the non-private twins' level beside each line."""
    if not budgets:
        return []
    charts = []
    epsilons = [b["target_epsilon"] for b in budgets if is_number(b["target_epsilon"])]
    if not epsilons:
        return []
    span = [(min(epsilons), None), (max(epsilons), None)]

    def figure_chart(title: str, y_label: str, pick) -> Any:
        series: dict[str, list[tuple[float, float | None]]] = {}
        for b in budgets:
            for framework, table in b["before_after"].items():
                after, before = pick(table, "after"), pick(table, "before")
                series.setdefault(f"{framework} DP-SGD", []).append((b["target_epsilon"], after))
                level = series.setdefault(f"{framework} non-private", [])
                if not level and before is not None:
                    level.extend((x, before) for x, _ in span)
        if not any(y is not None for values in series.values() for _, y in values):
            return None  # (disparate impact of a set without a privileged group)
        return line_chart(series, title=title, x_label="budget ε (δ fixed)", y_label=y_label,
                          from_zero=False)

    charts.append(figure_chart("Accuracy against the privacy budget", "accuracy",
                               lambda table, side: get(table, "accuracy", side, "mean")))
    first_table: dict = next(iter(budgets[0]["before_after"].values()), {})
    first = next(iter(get(first_table, "group_sets", default={}) or {}), None)
    if first is not None:
        for disparity in HEADLINE_DISPARITIES:
            charts.append(figure_chart(
                f"{disparity.replace('_', ' ')} ({first}) against the privacy budget",
                disparity, lambda table, side, d=disparity: get(table, "group_sets", first, d,
                                                                side, "mean")))
    return [chart for chart in charts if chart is not None]
