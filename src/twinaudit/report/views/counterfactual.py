"""The counterfactual identity test, as the report shows it.

Per category (gender, nationality, religion): each group's score gap, mean over seeds ± seed
standard deviation with the first seed's template-bootstrap interval, torch and Keras side by
side, and whether the category's spread is equivalent between the frameworks (paired over seeds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twinaudit.report.formatting import is_number
from twinaudit.report.views._common import mean_and_std


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
                mean, std = mean_and_std([gap for gap in gaps if is_number(gap)])
                first: Any = next(iter(seeds.values()), {})  # a seed's JSON entry
                row["by_framework"][framework] = {
                    "mean": mean, "std": std,
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
