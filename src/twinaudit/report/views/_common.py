"""What several section views share: defensive reading, and the twins' fairness audits.

Reading is defensive: a missing or reshaped field leaves a dash, never a crash, because
results files of older and newer runs are re-rendered with this code.

Every twin (framework × seed) has its own fairness audit. The report never shows one seed's
number as "the" number: a figure is the mean over seeds with the seed-to-seed standard
deviation, and its interval is the *envelope* of the seeds' bootstrap intervals (lowest lower
bound to highest upper bound) — wider than any one seed's, and labelled as such. The fairness,
mitigation and verdict views all read the audits this way.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twinaudit.report.formatting import is_number
from twinaudit.report.tree import find
from twinaudit.vocabulary import IMPLEMENTATIONS

#: The disparities a reader scans first; the rest stay in the full table.
HEADLINE_DISPARITIES = ("demographic_parity_difference", "equalized_odds_difference",
                        "equal_opportunity_difference", "disparate_impact")
#: Where a lower value is fairer; for ratios (disparate impact) closer to 1 — higher — is.
LOWER_IS_FAIRER_SUFFIX = "_difference"


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


def is_interval(value: Any) -> bool:
    """A ``[low, high]`` list of two finite numbers, as results.json stores an interval."""
    return isinstance(value, list) and len(value) == 2 and all(map(is_number, value))


def mean_and_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """The mean over seeds and the seed standard deviation (``None`` with too few seeds)."""
    return (statistics.fmean(values) if values else None,
            statistics.stdev(values) if len(values) > 1 else None)


# ---------------------------------------------------------------------------------------------
# The twins' fairness audits, across seeds


@dataclass
class TwinAudit:
    """One fairness audit and the twin it belongs to."""

    framework: str
    seed: str
    audit: dict


@dataclass
class Aggregate:
    """A figure over seeds: mean, seed standard deviation, and the envelope of seed CIs."""

    mean: float | None = None
    std: float | None = None
    low: float | None = None
    high: float | None = None
    n_seeds: int = 0
    values: list[float] = field(default_factory=list)

    @property
    def ci(self) -> list[float] | None:
        return None if self.low is None or self.high is None else [self.low, self.high]


def aggregate(entries: Sequence[Mapping[str, Any] | None]) -> Aggregate:
    """Combine ``{"value", "ci"}`` entries of several seeds into one :class:`Aggregate`."""
    values = [e["value"] for e in entries if isinstance(e, Mapping) and is_number(e.get("value"))]
    intervals = [e["ci"] for e in entries if isinstance(e, Mapping) and is_interval(e.get("ci"))]
    if not values:
        return Aggregate()
    mean, std = mean_and_std(values)
    return Aggregate(
        mean=mean, std=std,
        low=min(ci[0] for ci in intervals) if intervals else None,
        high=max(ci[1] for ci in intervals) if intervals else None,
        n_seeds=len(values), values=values)


def is_fairness_audit(node: Any) -> bool:
    """A ``fairness_audit`` output (and not a summary across seeds, which looks alike)."""
    return (isinstance(node, dict) and isinstance(node.get("group_sets"), dict)
            and isinstance(node.get("overall"), dict) and not is_seed_summary(node))


def is_seed_summary(node: Any) -> bool:
    """The output of ``summarise_across_seeds``: a verdict per disparity across frameworks."""
    return (isinstance(node, dict) and "rule" in node and isinstance(node.get("frameworks"), list)
            and isinstance(node.get("group_sets"), dict))


def twin_audits(tree: Any) -> list[TwinAudit]:
    """Every fairness audit under ``tree``, with framework and seed read off the way there.

    A key equal to a framework name (or a ``{"framework": ...}`` wrapper) names the framework;
    a whole-number key, ``seedN``, or a ``{"seed": ...}`` wrapper names the seed.
    """
    found = []
    for path, audit in find(tree, is_fairness_audit):
        framework, seed = "twin", "?"
        node = tree
        for key in path:
            if isinstance(node, dict):
                framework = str(node.get("framework", framework))
                seed = str(node.get("seed", seed))
            text = str(key)
            if text in IMPLEMENTATIONS:
                framework = text
            elif text.isdecimal() or (text.startswith("seed") and text[4:].isdecimal()):
                seed = text.removeprefix("seed")
            node = node[key]
        found.append(TwinAudit(framework, seed, audit))
    return found


def by_framework(audits: Sequence[TwinAudit]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for twin in sorted(audits, key=lambda t: (_framework_order(t.framework), _seed_order(t.seed))):
        grouped.setdefault(twin.framework, []).append(twin.audit)
    return grouped


def _framework_order(name: str) -> tuple[int, str]:
    return (IMPLEMENTATIONS.index(name) if name in IMPLEMENTATIONS else 99, name)


def _seed_order(seed: str) -> tuple[int, str]:
    return (int(seed), "") if seed.isdecimal() else (10 ** 9, seed)
