"""The counterfactual identity test: do the twins score a sentence differently when only an
identity term in it changes?

Templates and word lists are in ``audits/files/counterfactual.toml`` (documented there). For
each category (gender, nationality, religion), each template ``t`` and group ``g``,
``S[t, g]`` is the mean positive-class probability over the group's terms. A group's gap is
``mean_t (S[t, g] − mean_g' S[t, g'])``: positive means the group's sentences score more
positive than the category's average. The category's spread is the largest gap minus the
smallest. Intervals resample templates with replacement (percentile bootstrap, one matrix
operation).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from twinaudit.audits.seed_noise import compare_frameworks
from twinaudit.fairness.counts import percentile_interval
from twinaudit.spec.sections import EQUIVALENCE_MARGINS


@dataclass(frozen=True)
class Templates:
    """Template sentences with a ``{person}`` slot, and identity terms per category and group."""

    templates: list[str]
    categories: dict[str, dict[str, list[str]]]

    def sentences(self, category: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Every (template, term) sentence of a category, with its template and group index."""
        sentences, template_index, group_index = [], [], []
        for t, template in enumerate(self.templates):
            for g, terms in enumerate(self.categories[category].values()):
                for term in terms:
                    sentences.append(template.format(person=term))
                    template_index.append(t)
                    group_index.append(g)
        return sentences, np.array(template_index), np.array(group_index)


def load_templates() -> Templates:
    """The packaged templates and word lists."""
    text = resources.files("twinaudit.audits").joinpath("files", "counterfactual.toml").read_text(
        encoding="utf-8")
    raw = tomllib.loads(text)
    return Templates(list(raw["templates"]),
                     {name: {group: list(terms) for group, terms in groups.items()}
                      for name, groups in raw["categories"].items()})


def group_gaps(scores: np.ndarray, template_index: np.ndarray, group_index: np.ndarray, *,
               n_resamples: int, confidence: float, random_state: int) -> dict[str, Any]:
    """Gaps per group and the category's spread, with template-bootstrap intervals.

    Parameters
    ----------
    scores : array of shape (n_sentences,)
        Positive-class probability of each sentence.
    template_index, group_index : int arrays of shape (n_sentences,)
    """
    n_templates, n_groups = template_index.max() + 1, group_index.max() + 1
    totals = np.zeros((n_templates, n_groups))
    counts = np.zeros((n_templates, n_groups))
    np.add.at(totals, (template_index, group_index), scores)
    np.add.at(counts, (template_index, group_index), 1)
    per_template = totals / counts                                  # S[t, g]
    centred = per_template - per_template.mean(axis=1, keepdims=True)

    def statistics(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gaps = rows.mean(axis=-2)                                   # (..., groups)
        return gaps, gaps.max(axis=-1) - gaps.min(axis=-1)

    gaps, spread = statistics(centred)
    gap_bounds = spread_bounds = None
    if n_resamples:
        draws = np.random.default_rng(random_state).integers(
            0, n_templates, size=(n_resamples, n_templates))
        resampled_gaps, resampled_spread = statistics(centred[draws])  # (B, T, G) -> (B, G)
        gap_bounds = percentile_interval(resampled_gaps, confidence)
        spread_bounds = percentile_interval(resampled_spread, confidence)
    return {
        "gaps": [float(value) for value in gaps],
        "gap_ci": None if gap_bounds is None else
        [[float(low), float(high)] for low, high in zip(*gap_bounds, strict=True)],
        "mean_score": [float(value) for value in per_template.mean(axis=0)],
        "spread": float(spread),
        "spread_ci": None if spread_bounds is None else
        [float(spread_bounds[0]), float(spread_bounds[1])],
    }


def counterfactual_audit(twins: dict, tokenizer, *, n_resamples: int = 1000,
                         confidence: float = 0.95, random_state: int = 0,
                         templates: Templates | None = None,
                         margin: float = EQUIVALENCE_MARGINS["disparity"],
                         alpha: float = 0.05) -> dict[str, Any]:
    """The counterfactual section of results.json, for every (framework, seed) twin.

    The twins' spreads (a gap between group scores) are compared pairwise over seeds at the
    ``disparity`` margin (:func:`twinaudit.audits.seed_noise.compare_frameworks`).

    Returns
    -------
    dict
        ``{"templates", "n_templates", "categories": {category: {"groups": {group: {"terms",
        "in_vocabulary"}}, "twins": {framework: {seed: {"groups": {group: {"gap", "ci",
        "mean_score"}}, "spread", "spread_ci"}}}, "spread": compare_frameworks(...)}}}``.
    """
    templates = templates or load_templates()
    # The frameworks in the order they were trained: a pair is compared, reference first.
    frameworks = tuple(dict.fromkeys(framework for framework, _ in twins))
    section: dict[str, Any] = {"templates": templates.templates,
                               "n_templates": len(templates.templates),
                               "n_resamples": n_resamples, "confidence": confidence,
                               "categories": {}}
    for category, groups in templates.categories.items():
        sentences, template_index, group_index = templates.sentences(category)
        token_ids = tokenizer.encode(sentences)
        entry: dict[str, Any] = {
            "groups": {group: {"terms": terms,
                               "in_vocabulary": float(np.mean([tokenizer.knows(term)
                                                               for term in terms]))}
                       for group, terms in groups.items()},
            "twins": {},
        }
        spreads: dict[str, list[float]] = {framework: [] for framework in frameworks}
        for (framework, seed), twin in twins.items():
            figures = group_gaps(twin.predict_proba(token_ids)[:, 1], template_index,
                                 group_index, n_resamples=n_resamples, confidence=confidence,
                                 random_state=random_state)
            entry["twins"].setdefault(framework, {})[str(seed)] = {
                "groups": {group: {"gap": figures["gaps"][g],
                                   "ci": figures["gap_ci"][g] if figures["gap_ci"] else None,
                                   "mean_score": figures["mean_score"][g]}
                           for g, group in enumerate(groups)},
                "spread": figures["spread"], "spread_ci": figures["spread_ci"],
            }
            spreads.setdefault(framework, []).append(figures["spread"])
        if len(frameworks) == 2 and all(spreads.get(framework) for framework in frameworks):
            entry["spread"] = compare_frameworks(spreads, frameworks, margin=margin,
                                                 alpha=alpha)
        section["categories"][category] = entry
    return section
