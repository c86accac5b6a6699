"""Membership inference: the ROC figures against scikit-learn, the counts-based bootstrap
against resampling the rows themselves, the intervals' coverage in a simulation with a known
AUC, offline LiRA on simulated shadows, and both attacks on real twins both ways (a twin that
memorised its rows leaks; an untrained twin and shuffled membership do not)."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets.mlp import MLPNetwork
from twinaudit.privacy.membership import (
    FPRS,
    attack_figures,
    candidate_rows,
    confidence_statistic,
    lira_offline_scores,
    loss_scores,
    roc_resamples,
)
from twinaudit.vocabulary import FRAMEWORKS

from helpers import COMPAS_CSV, compas_arrays


def _tpr_at(members, scores, fpr):
    """scikit-learn's ROC curve read at the highest TPR whose FPR is at most ``fpr``."""
    false, true, _ = roc_curve(members, scores)
    return true[false <= fpr].max()


@pytest.mark.parametrize("decimals", [None, 1])  # continuous scores, and many ties
def test_auc_and_tpr_at_fpr_equal_scikit_learn(decimals):
    rng = np.random.default_rng(3)
    scores = np.r_[rng.normal(0.4, 1, 3000), rng.normal(0, 1, 3000)]
    if decimals is not None:
        scores = scores.round(decimals)
    members = np.r_[np.ones(3000, bool), np.zeros(3000, bool)]
    (auc, tpr), _ = roc_resamples(scores, members, n_resamples=0, rng=rng)
    assert auc == pytest.approx(roc_auc_score(members, scores), abs=1e-12)
    for index, fpr in enumerate(FPRS):
        assert tpr[index] == pytest.approx(_tpr_at(members, scores, fpr), abs=1e-12)


def test_the_counts_bootstrap_is_resampling_the_rows_within_membership():
    rng = np.random.default_rng(0)
    scores = np.r_[rng.normal(0.5, 1, 400), rng.normal(0, 1, 300)].round(2)
    members = np.r_[np.ones(400, bool), np.zeros(300, bool)]
    _, (aucs, tprs) = roc_resamples(scores, members, n_resamples=7,
                                    rng=np.random.default_rng(11))
    # The same draws, as explicit resamples of rows, scored by scikit-learn.
    replay = np.random.default_rng(11)
    draw_m = replay.integers(0, 400, (7, 400))
    draw_n = replay.integers(0, 300, (7, 300))
    for r in range(7):
        resampled = np.r_[scores[members][draw_m[r]], scores[~members][draw_n[r]]]
        labels = np.r_[np.ones(400, bool), np.zeros(300, bool)]
        assert aucs[r] == pytest.approx(roc_auc_score(labels, resampled), abs=1e-12)
        assert tprs[r, 1] == pytest.approx(_tpr_at(labels, resampled, FPRS[1]), abs=1e-12)


@pytest.mark.slow
def test_the_auc_interval_covers_a_known_auc_about_as_often_as_it_says():
    # Members ~ N(d, 1), non-members ~ N(0, 1): AUC = Φ(d / √2).
    d, n, trials = 0.5, 300, 300
    truth = stats.norm.cdf(d / np.sqrt(2))
    rng = np.random.default_rng(7)
    covered = 0
    for trial in range(trials):
        scores = np.r_[rng.normal(d, 1, n), rng.normal(0, 1, n)]
        members = np.r_[np.ones(n, bool), np.zeros(n, bool)]
        out = attack_figures(scores, members, {}, n_resamples=500, confidence=0.95,
                             random_state=trial, min_group_size=30)
        low, high = out["overall"]["auc_ci"]
        covered += low <= truth <= high
    # 95 % nominal; a binomial band for 300 trials (percentile intervals run a little short).
    assert 0.90 <= covered / trials <= 0.99


def test_figures_by_group_are_the_attack_on_each_group_and_the_gap_is_their_spread():
    rng = np.random.default_rng(1)
    n = 4000
    groups = rng.choice(["a", "b", "c", "tiny"], size=2 * n, p=[0.5, 0.3, 0.195, 0.005])
    shift = np.select([groups == "a", groups == "b"], [0.6, 0.2], 0.0)
    members = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    scores = rng.normal(0, 1, 2 * n) + shift * members
    out = attack_figures(scores, members, {"g": groups}, n_resamples=200, confidence=0.95,
                         random_state=0, min_group_size=30)
    entries = {entry["group"]: entry for entry in out["by_group"]["g"]["groups"]}
    for group in ("a", "b", "c"):
        rows = groups == group
        assert entries[group]["auc"] == pytest.approx(
            roc_auc_score(members[rows], scores[rows]), abs=1e-12)
    assert entries["tiny"]["auc"] is None and "under 30" in entries["tiny"]["reason"]
    gap = out["by_group"]["g"]["gap"]
    assert (gap["highest"], gap["lowest"]) == ("a", "c")
    assert gap["value"] == pytest.approx(entries["a"]["auc"] - entries["c"]["auc"])
    assert gap["ci"][0] > 0  # a real difference in exposure, beyond resampling noise
    # Groups that leak alike: the gap's interval holds 0 (it can fail both ways).
    alike = attack_figures(rng.normal(0, 1, 2 * n) + 0.3 * members, members, {"g": groups},
                           n_resamples=200, confidence=0.95, random_state=0,
                           min_group_size=30)["by_group"]["g"]["gap"]
    assert alike["ci"][0] < 0 < alike["ci"][1]
    # 0.1 % FPR needs 1,000 non-members: group c has about 780.
    assert entries["c"]["tpr_at_fpr"]["0.001"]["value"] is None
    assert entries["a"]["tpr_at_fpr"]["0.001"]["value"] is not None


def test_candidates_are_balanced_distinct_and_seeded():
    first = candidate_rows(1000, 300, max_rows=0, random_state=4)
    assert len(first.members) == len(first.non_members) == 300
    assert len(set(first.members)) == 300 and first.members.max() < 1000
    again = candidate_rows(1000, 300, max_rows=0, random_state=4)
    np.testing.assert_array_equal(first.members, again.members)
    assert len(candidate_rows(1000, 300, max_rows=100, random_state=4).members) == 100
    assert first.is_member.sum() == 300 and len(first.is_member) == 600


def test_offline_lira_finds_a_known_shift_against_each_rows_own_reference():
    # Each row has its own typical confidence μ_i (the shadows see it, without the row);
    # members sit δ above theirs. Raw confidences hide it; LiRA's per-row reference finds it.
    rng = np.random.default_rng(5)
    n, k, delta = 2000, 8, 0.5
    typical = rng.normal(0, 3, 2 * n)
    members = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    shadows = typical + rng.normal(0, 1, (k, 2 * n))
    out = np.ones((k, 2 * n), bool)
    out[: k // 2, :n] = False  # half the shadows trained on each member
    shadows[: k // 2, :n] += delta
    target = typical + rng.normal(0, 1, 2 * n) + delta * members
    lira = roc_auc_score(members, lira_offline_scores(target, shadows, out))
    # target − μ̂_out: a member's μ̂ is a mean of k/2 shadows, a non-member's of k.
    spread = np.sqrt((1 + 1 / (k / 2)) + (1 + 1 / k))
    assert lira == pytest.approx(stats.norm.cdf(delta / spread), abs=0.02)
    assert lira > roc_auc_score(members, target) + 0.05
    with pytest.raises(ValueError, match="at least one shadow"):
        lira_offline_scores(target, shadows, np.zeros_like(out))


def _memorising_twin(framework, X, y):
    network = MLPNetwork(n_inputs=X.shape[1], hidden=(128, 128))
    schedule = Schedule(epochs=150, batch_size=32, learning_rate=0.003, early_stopping=False)
    return twin_class(framework)(network, schedule, random_state=0).fit(X, y)


@pytest.mark.slow
@pytest.mark.skipif(not COMPAS_CSV.is_file(), reason="ProPublica's COMPAS file is not here")
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_both_attacks_both_ways_on_compas_twins(framework):
    X_train, y_train, _, X_test, y_test, _ = compas_arrays(300)
    X_test, y_test = X_test[:300], y_test[:300]
    X = np.concatenate([X_train, X_test])
    y = np.concatenate([y_train, y_test])
    members = np.r_[np.ones(300, bool), np.zeros(300, bool)]
    twin = _memorising_twin(framework, X_train, y_train)
    figures = attack_figures(loss_scores(twin, X, y), members, {}, n_resamples=300,
                             confidence=0.95, random_state=0, min_group_size=30)["overall"]
    assert figures["auc"] > 0.65 and figures["auc_ci"][0] > 0.6  # it memorised its rows
    # The same twin with membership drawn at random: nothing to find.
    shuffled = np.random.default_rng(0).permutation(members)
    blind = attack_figures(loss_scores(twin, X, y), shuffled, {}, n_resamples=300,
                           confidence=0.95, random_state=0, min_group_size=30)["overall"]
    assert blind["auc_ci"][0] < 0.5 < blind["auc_ci"][1]
    # An untrained twin (its seed's initial weights) never saw the members.
    untrained = twin_class(framework)(twin.network, random_state=0).initialize()
    fresh = attack_figures(loss_scores(untrained, X, y), members, {}, n_resamples=300,
                           confidence=0.95, random_state=0, min_group_size=30)["overall"]
    assert fresh["auc_ci"][0] < 0.5 < fresh["auc_ci"][1]
    # LiRA's statistic is the log-odds of the true label: it ranks as the loss does here.
    assert roc_auc_score(members, confidence_statistic(twin, X, y)) == pytest.approx(
        figures["auc"], abs=1e-3)  # equal up to the rounding of p near 1
