"""How two sets of attributions agree, and the fairness-link figures, on hand-made numbers."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.attribution import (
    attribution_share,
    compare_attributions,
    fairness_link,
    matching_columns,
    row_cosine,
    top_k_overlap,
    twin_agreement,
)


def test_identical_attributions_agree_perfectly_and_permuted_ones_do_not():
    rng = np.random.default_rng(0)
    scale = np.linspace(0.1, 3.0, 20)                     # distinct importances per feature
    attributions = rng.normal(size=(50, 20)) * scale
    same = compare_attributions(attributions, attributions.copy())
    assert same["spearman"] == pytest.approx(1.0)
    assert same["top_k_overlap"] == 1.0
    assert same["cosine_median"] == pytest.approx(1.0) and same["cosine_p5"] == pytest.approx(1.0)
    reversed_columns = compare_attributions(attributions, attributions[:, ::-1])
    assert reversed_columns["spearman"] < -0.9
    assert reversed_columns["top_k_overlap"] == 0.0   # top 10 of 20 reversed: disjoint halves
    assert reversed_columns["cosine_median"] < 0.5


def test_agreement_figures_by_hand():
    # Importances (3, 2, 1, 0) against (3, 2, 0, 1): ranks differ in one swap,
    # ρ = 1 − 6·(1 + 1)/(4·15) = 0.8; the top 2 are the same, the top 3 share 2 of 3.
    first = np.array([[3.0, 2.0, 1.0, 0.0]])
    second = np.array([[3.0, 2.0, 0.0, 1.0]])
    assert compare_attributions(first, second, k=2)["spearman"] == pytest.approx(0.8)
    assert top_k_overlap(first[0], second[0], k=2) == 1.0
    assert top_k_overlap(first[0], second[0], k=3) == pytest.approx(2 / 3)
    np.testing.assert_allclose(row_cosine(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]),
                                          np.array([[0.0, 1.0], [0.0, 0.0], [-2.0, -2.0]])),
                               [0.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="same rows"):
        compare_attributions(first, second[:, :3])


def test_twin_agreement_sets_frameworks_against_seeds():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(30, 12)) * np.linspace(0.5, 2, 12)
    other_seed = rng.normal(size=(30, 12))
    attributions = {("torch", 0): base, ("keras", 0): base + 1e-9,
                    ("torch", 1): other_seed, ("keras", 1): other_seed.copy()}
    agreement = twin_agreement(attributions)
    assert [pair["seed"] for pair in agreement["frameworks"]] == [0, 1]
    assert agreement["summary"]["frameworks"]["cosine_median"] == pytest.approx(1.0)
    assert [pair["seeds"] for pair in agreement["seeds"]["torch"]] == [[0, 1]]
    assert agreement["summary"]["seeds"]["cosine_median"] < 0.5
    assert twin_agreement({("torch", 0): base})["summary"] == {"frameworks": None,
                                                                "seeds": None}


# -- the fairness link -----------------------------------------------------------------------


FEATURES = ["age", "sex=Female", "sex=Male", "relationship=Wife", "race=White"]


def test_matching_columns_selects_one_hot_columns_by_source_name_or_prefix():
    assert matching_columns(FEATURES, ["sex"]) == [1, 2]
    assert matching_columns(FEATURES, ["relationship="]) == [3]
    assert matching_columns(FEATURES, ["age", "sex=Male"]) == [0, 2]
    assert matching_columns(FEATURES, ["se"]) == []            # no partial-word matches


def test_sensitive_and_proxy_shares_by_hand():
    attributions = np.array([
        # age  F     M     Wife  White
        [4.0, 1.0, 0.0, -3.0, 2.0],    # row of group Female: |·| sums to 10
        [1.0, 0.0, -1.0, 0.0, 0.0],    # row of group Male: |·| sums to 2
    ])
    groups = pd.DataFrame({"sex": ["Female", "Male"]})
    link = fairness_link(attributions, FEATURES, groups, sensitive_columns=["sex"],
                         proxy_columns=["sex=", "relationship="], top_k=2)
    # Overall mass 12: sensitive (sex=*) 1 + 1 = 2; proxies other than sex: Wife 3.
    assert link["share"]["sensitive"] == pytest.approx(2 / 12)
    assert link["share"]["proxy"] == pytest.approx(3 / 12)
    assert link["share"]["sensitive_or_proxy"] == pytest.approx(5 / 12)
    assert link["share_by_group"]["sex"]["Female"]["sensitive"] == pytest.approx(1 / 10)
    assert link["share_by_group"]["sex"]["Male"]["sensitive"] == pytest.approx(1 / 2)
    # Top 2 by mean |·|: age (2.5) then relationship=Wife (1.5).
    differences = link["group_differences"]["sex"]
    assert list(differences) == ["age", "relationship=Wife"]
    assert differences["age"]["by_group"] == {"Female": 4.0, "Male": 1.0}
    assert differences["age"]["difference"] == pytest.approx(3.0)
    assert attribution_share(np.zeros((2, 5)), [1]) is None
