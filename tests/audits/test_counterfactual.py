"""The counterfactual identity test: templates, gap arithmetic, and the audit over twins."""

import numpy as np
import pytest

from twinaudit.audits.counterfactual import counterfactual_audit, group_gaps, load_templates
from twinaudit.data.text import Tokenizer


def test_templates_have_one_slot_and_every_category_several_groups():
    templates = load_templates()
    assert len(templates.templates) >= 10
    for template in templates.templates:
        assert template.count("{person}") == 1
    assert set(templates.categories) == {"gender", "nationality", "religion"}
    for groups in templates.categories.values():
        assert len(groups) >= 2 and all(groups.values())
    sentences, template_index, group_index = templates.sentences("gender")
    assert len(sentences) == len(templates.templates) * 16
    assert sentences[0] == templates.templates[0].format(person="she")
    assert template_index.max() == len(templates.templates) - 1 and group_index.max() == 1


def test_gaps_are_each_groups_distance_from_the_category_mean():
    # Two templates, three groups, one term each. Per template the group means are
    # t0: [0.6, 0.5, 0.4] (mean 0.5) and t1: [0.8, 0.8, 0.5] (mean 0.7), so the centred
    # scores are [0.1, 0, −0.1] and [0.1, 0.1, −0.2]: gaps [0.1, 0.05, −0.15], spread 0.25.
    scores = np.array([0.6, 0.5, 0.4, 0.8, 0.8, 0.5])
    figures = group_gaps(scores, np.array([0, 0, 0, 1, 1, 1]), np.array([0, 1, 2, 0, 1, 2]),
                         n_resamples=200, confidence=0.95, random_state=0)
    np.testing.assert_allclose(figures["gaps"], [0.1, 0.05, -0.15], atol=1e-12)
    assert figures["spread"] == pytest.approx(0.25)
    np.testing.assert_allclose(figures["mean_score"], [0.7, 0.65, 0.45])
    for (low, high), gap in zip(figures["gap_ci"], figures["gaps"], strict=True):
        assert low <= gap + 1e-12 and gap - 1e-12 <= high
    # Resampling templates: the gap of group 2 is −0.1 or −0.2 in each template.
    assert figures["gap_ci"][2][0] >= -0.2 - 1e-12 and figures["gap_ci"][2][1] <= -0.1 + 1e-12


class WordCountingTwin:
    """A stand-in twin whose positive probability rises with one token's presence."""

    def __init__(self, token_id: int):
        self.token_id = token_id

    def predict_proba(self, token_ids):
        positive = 0.5 + 0.2 * (token_ids == self.token_id).any(axis=1)
        return np.stack([1 - positive, positive], axis=1)


def test_audit_finds_the_gap_a_twin_puts_on_one_term_and_none_elsewhere():
    templates = load_templates()
    texts = [template.format(person=term) for template in templates.templates
             for groups in templates.categories.values() for terms in groups.values()
             for term in terms]
    tokenizer = Tokenizer(max_vocabulary=10000, length=12, min_count=1).fit(texts)
    twins = {("torch", 0): WordCountingTwin(tokenizer.vocabulary_["muslim"]),
             ("keras", 0): WordCountingTwin(tokenizer.vocabulary_["muslim"])}
    audit = counterfactual_audit(twins, tokenizer, n_resamples=100)
    religion = audit["categories"]["religion"]["twins"]["torch"]["0"]
    n_groups = len(templates.categories["religion"])
    # Every "muslim" sentence scores 0.7, the rest 0.5: the muslim group sits
    # 0.2 · (1 − 1/n) above the category mean, every other group 0.2/n below.
    assert religion["groups"]["muslim"]["gap"] == pytest.approx(0.2 * (1 - 1 / n_groups))
    assert religion["groups"]["jewish"]["gap"] == pytest.approx(-0.2 / n_groups)
    assert religion["spread"] == pytest.approx(0.2)
    gender = audit["categories"]["gender"]["twins"]["keras"]["0"]
    assert gender["spread"] == pytest.approx(0.0, abs=1e-12)
    assert audit["categories"]["gender"]["groups"]["female"]["in_vocabulary"] == 1.0
