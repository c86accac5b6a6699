"""The counterfactual identity test and task notes, as the report shows them.

Per category (gender, nationality, religion): each group's score gap, mean over seeds ± seed
standard deviation with the first seed's template-bootstrap interval, torch and Keras side by
side, and whether the category's spread differs between the frameworks beyond seed noise.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from twinaudit.report.formatting import is_number


def counterfactual_section(results: Mapping) -> dict | None:
    """The view of ``results["counterfactual"]``, or None when the run has none."""
    counterfactual = results.get("counterfactual")
    if not isinstance(counterfactual, Mapping) or not isinstance(
            counterfactual.get("categories"), Mapping):
        return None
    categories = []
    for name, category in counterfactual["categories"].items():
        twins = category.get("twins") or {}
        frameworks = list(twins)
        rows = []
        for group, info in (category.get("groups") or {}).items():
            row = {"group": group, "terms": info.get("terms") or [],
                   "in_vocabulary": info.get("in_vocabulary"), "by_framework": {}}
            for framework in frameworks:
                seeds = twins[framework]
                gaps = [get_gap(seeds[seed], group) for seed in seeds]
                numbers = [gap for gap in gaps if is_number(gap)]
                first = next(iter(seeds.values()), {})
                row["by_framework"][framework] = {
                    "mean": statistics.fmean(numbers) if numbers else None,
                    "std": statistics.stdev(numbers) if len(numbers) > 1 else None,
                    "ci_first_seed": (first.get("groups") or {}).get(group, {}).get("ci"),
                }
            rows.append(row)
        categories.append({"name": name, "frameworks": frameworks, "rows": rows,
                           "spread": category.get("spread") or {}})
    return {"templates": counterfactual.get("templates") or [],
            "n_templates": counterfactual.get("n_templates"),
            "confidence": counterfactual.get("confidence"), "categories": categories}


def get_gap(seed_result: Any, group: str) -> Any:
    if not isinstance(seed_result, Mapping):
        return None
    return ((seed_result.get("groups") or {}).get(group) or {}).get("gap")


def task_notes(results: Mapping) -> dict:
    """What the fairness outcome means for non-binary tasks, and anomaly thresholds."""
    fairness = results.get("fairness")
    anomaly = results.get("anomaly")
    return {
        "outcome": fairness.get("outcome") if isinstance(fairness, Mapping) else None,
        "anomaly": anomaly if isinstance(anomaly, Mapping) else None,
    }
