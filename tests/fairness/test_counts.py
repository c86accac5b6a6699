"""Cell sums, metrics from counts, and the stratified bootstrap of twinaudit.fairness.counts."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from twinaudit.fairness import counts as stats


def _random_rows(n_rows: int, n_groups: int, seed: int = 0):
    random = np.random.default_rng(seed)
    group_codes = random.integers(0, n_groups, n_rows)
    y_true = random.integers(0, 2, n_rows)
    y_score = np.clip(random.beta(2, 3, n_rows) + 0.2 * y_true, 0, 1)
    y_pred = (y_score > 0.45).astype(int)
    sample_weight = random.exponential(2.0, n_rows)
    return group_codes, y_true, y_pred, y_score, sample_weight


def test_cell_sums_count_each_confusion_cell_per_group():
    group_codes = np.array([0, 0, 0, 1, 1, 1, 1])
    y_true = np.array([1, 1, 0, 0, 0, 1, 0])
    y_pred = np.array([1, 0, 1, 0, 0, 1, 1])
    sums = stats.group_cell_sums(group_codes, 2, y_true, y_pred)
    confusion = sums.rows.sum(axis=1)  # bins summed out: (group, y_true, y_pred)
    # group 0: TP, FN, FP; group 1: TN, TN, TP, FP
    np.testing.assert_array_equal(confusion[0], [[0, 1], [1, 1]])
    np.testing.assert_array_equal(confusion[1], [[2, 1], [0, 1]])
    np.testing.assert_array_equal(sums.group_rows, [3, 4])


def test_weighted_cell_sums_add_the_weights_of_each_cell():
    group_codes = np.array([0, 0, 1])
    y_true = np.array([1, 1, 0])
    y_pred = np.array([1, 1, 0])
    y_score = np.array([0.9, 0.95, 0.2])
    sums = stats.group_cell_sums(
        group_codes, 2, y_true, y_pred, y_score, sample_weight=np.array([2.0, 0.5, 3.0])
    )
    assert sums.weight[0, 9, 1, 1] == pytest.approx(2.5)  # both rows in the top bin
    assert sums.weighted_score[0, 9, 1, 1] == pytest.approx(2.0 * 0.9 + 0.5 * 0.95)
    assert sums.weight[1, 2, 0, 0] == pytest.approx(3.0)
    np.testing.assert_allclose(sums.group_weight, [2.5, 3.0])


def test_calibration_bins_are_equal_width_and_one_goes_to_the_top_bin():
    bins = stats.calibration_bins(np.array([0.0, 0.0999, 0.1, 0.55, 0.9999, 1.0]))
    np.testing.assert_array_equal(bins, [0, 0, 1, 5, 9, 9])


def test_metrics_by_hand_with_calibration_error():
    # One group: scores 0.15, 0.15 (bin 1, labels 0, 1) and 0.85, 0.95 (bin 8 and 9, label 1).
    y_true = np.array([0, 1, 1, 1])
    y_score = np.array([0.15, 0.15, 0.85, 0.95])
    y_pred = (y_score > 0.5).astype(int)
    metrics = stats.group_metrics(
        stats.group_cell_sums(np.zeros(4, int), 1, y_true, y_pred, y_score)
    )
    # bin 1: |1 - 0.30| = 0.70; bin 8: |1 - 0.85| = 0.15; bin 9: |1 - 0.95| = 0.05; / 4 rows
    assert metrics["expected_calibration_error"][0] == pytest.approx(0.90 / 4)
    assert metrics["base_rate"][0] == pytest.approx(0.75)
    assert metrics["selection_rate"][0] == pytest.approx(0.5)
    assert metrics["true_positive_rate"][0] == pytest.approx(2 / 3)
    assert metrics["false_positive_rate"][0] == pytest.approx(0.0)
    assert metrics["false_negative_rate"][0] == pytest.approx(1 / 3)
    assert metrics["precision"][0] == pytest.approx(1.0)
    assert metrics["accuracy"][0] == pytest.approx(0.75)
    assert metrics["balanced_accuracy"][0] == pytest.approx((2 / 3 + 1) / 2)


def test_undefined_rates_are_nan_and_balanced_accuracy_follows_sklearn():
    # Only negatives, none predicted positive: TPR, FNR and precision are undefined.
    y_true = np.array([0, 0, 0])
    y_pred = np.array([0, 1, 0])
    metrics = stats.group_metrics(stats.group_cell_sums(np.zeros(3, int), 1, y_true, y_pred))
    assert np.isnan(metrics["true_positive_rate"][0])
    assert np.isnan(metrics["false_negative_rate"][0])
    assert metrics["precision"][0] == 0.0
    assert np.isnan(metrics["expected_calibration_error"][0])  # no scores given
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = balanced_accuracy_score(y_true, y_pred)
    assert metrics["balanced_accuracy"][0] == pytest.approx(expected)


def test_bootstrap_keeps_every_group_size_in_every_resample():
    group_codes, y_true, y_pred, y_score, _ = _random_rows(500, 2)
    group_codes = np.concatenate([group_codes, [2, 2]])  # a group of two rows
    y_true, y_pred = np.append(y_true, [1, 0]), np.append(y_pred, [1, 1])
    y_score = np.append(y_score, [0.7, 0.6])
    resampled = stats.stratified_bootstrap(
        group_codes, 3, y_true, y_pred, y_score, n_resamples=300, random_state=1
    )
    sizes = np.bincount(group_codes)
    assert resampled.rows.shape == (300, 3, stats.N_CALIBRATION_BINS, 2, 2)
    np.testing.assert_array_equal(resampled.group_rows, np.broadcast_to(sizes, (300, 3)))
    # The tiny group is resampled, not copied: some resamples repeat one of its two rows.
    assert len(np.unique(resampled.rows[:, 2].reshape(300, -1), axis=0)) > 1


def test_bootstrap_is_seeded():
    rows = _random_rows(400, 3)

    def draw(seed):
        return stats.stratified_bootstrap(
            rows[0], 3, *rows[1:], n_resamples=50, random_state=seed
        )

    first, again, other = draw(7), draw(7), draw(8)
    np.testing.assert_array_equal(first.rows, again.rows)
    np.testing.assert_array_equal(first.weighted_score, again.weighted_score)
    assert not np.array_equal(first.rows, other.rows)


@pytest.mark.parametrize("weighted", [False, True])
def test_bootstrap_matches_an_explicit_row_bootstrap(weighted):
    """The count-level bootstrap has the spread of resampling rows one by one."""
    group_codes, y_true, y_pred, y_score, sample_weight = _random_rows(600, 2, seed=3)
    sample_weight = sample_weight if weighted else None
    n_resamples = 1500
    fast = stats.group_metrics(stats.stratified_bootstrap(
        group_codes, 2, y_true, y_pred, y_score, sample_weight,
        n_resamples=n_resamples, random_state=0,
    ))
    random = np.random.default_rng(11)
    members = [np.flatnonzero(group_codes == group) for group in range(2)]
    explicit = {name: [] for name in fast}
    for _ in range(n_resamples):  # the slow reference, in the test only
        rows = np.concatenate([random.choice(group, len(group)) for group in members])
        sums = stats.group_cell_sums(
            group_codes[rows], 2, y_true[rows], y_pred[rows], y_score[rows],
            None if sample_weight is None else sample_weight[rows],
        )
        for name, values in stats.group_metrics(sums).items():
            explicit[name].append(values)
    for name in ("selection_rate", "true_positive_rate", "precision",
                 "expected_calibration_error"):
        np.testing.assert_allclose(
            fast[name].std(axis=0), np.std(explicit[name], axis=0), rtol=0.12, err_msg=name
        )
        np.testing.assert_allclose(
            fast[name].mean(axis=0), np.mean(explicit[name], axis=0), atol=0.01, err_msg=name
        )


def test_unweighted_bootstrap_of_counts_has_exact_multinomial_moments():
    group_codes, y_true, y_pred, _, _ = _random_rows(200, 1, seed=5)
    resampled = stats.stratified_bootstrap(
        group_codes, 1, y_true, y_pred, n_resamples=20000, random_state=2
    )
    counts = resampled.rows.sum(axis=(1, 2)).reshape(20000, 4)
    share = np.bincount(y_true * 2 + y_pred, minlength=4) / 200
    np.testing.assert_allclose(counts.mean(axis=0), 200 * share, rtol=0.02)
    np.testing.assert_allclose(counts.var(axis=0), 200 * share * (1 - share), rtol=0.05)
    # Without varying weights the weight sums are the counts, exactly.
    np.testing.assert_array_equal(resampled.weight, resampled.rows)


def test_percentile_interval_ignores_undefined_resamples():
    resampled = np.column_stack([np.arange(101.0), np.full(101, np.nan), np.arange(101.0)])
    resampled[:50, 2] = np.nan  # defined in 51 resamples: 50..100
    low, high = stats.percentile_interval(resampled, confidence=0.9)
    assert low[0] == pytest.approx(5.0) and high[0] == pytest.approx(95.0)
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert low[2] == pytest.approx(52.5) and high[2] == pytest.approx(97.5)


def test_score_sums_vary_like_sums_of_resampled_rows():
    # One cell (all rows in bin 5, label 1, predicted 1): its row count never changes, so all
    # variation of the score sum comes from which rows are drawn: variance n·var(score).
    y_score = np.linspace(0.5, 0.5999, 400)
    ones = np.ones(400, int)
    resampled = stats.stratified_bootstrap(
        np.zeros(400, int), 1, ones, ones, y_score, n_resamples=20000, random_state=4
    )
    score_sums = resampled.weighted_score.sum(axis=(1, 2, 3, 4))
    assert score_sums.mean() == pytest.approx(y_score.sum(), rel=1e-4)
    assert score_sums.var() == pytest.approx(400 * y_score.var(), rel=0.05)


def test_cell_sums_hold_squared_weights_for_effective_counts():
    group_codes, y_true, y_pred, _, sample_weight = _random_rows(300, 2, seed=6)
    sums = stats.group_cell_sums(group_codes, 2, y_true, y_pred, sample_weight=sample_weight)
    for group in range(2):
        rows = group_codes == group
        assert sums.weight_squared[group].sum() == pytest.approx((sample_weight[rows] ** 2).sum())
        # Kish: (sum w)^2 / sum w^2 of the group's rows, and successes = rate x that.
        selected = rows & (y_pred == 1)
        successes, trials = stats.rate_counts(sums)["selection_rate"]
        effective = sample_weight[rows].sum() ** 2 / (sample_weight[rows] ** 2).sum()
        assert trials[group] == pytest.approx(effective)
        assert successes[group] / trials[group] == pytest.approx(
            sample_weight[selected].sum() / sample_weight[rows].sum())
    unweighted = stats.group_cell_sums(group_codes, 2, y_true, y_pred)
    successes, trials = stats.rate_counts(unweighted)["true_positive_rate"]
    np.testing.assert_allclose(trials, [np.sum((group_codes == g) & (y_true == 1))
                                        for g in range(2)])
    np.testing.assert_allclose(successes, [np.sum((group_codes == g) & (y_true == 1)
                                                  & (y_pred == 1)) for g in range(2)])


def test_favourable_zero_selects_the_negative_prediction_only():
    group_codes, y_true, y_pred, y_score, _ = _random_rows(400, 2, seed=8)
    sums = stats.group_cell_sums(group_codes, 2, y_true, y_pred, y_score)
    one, zero = stats.group_metrics(sums, favourable=1), stats.group_metrics(sums, favourable=0)
    np.testing.assert_allclose(zero["selection_rate"], 1 - one["selection_rate"])
    for name in stats.GROUP_METRICS:
        if name != "selection_rate":
            np.testing.assert_array_equal(zero[name], one[name])


def test_leave_one_out_equals_deleting_a_row():
    group_codes, y_true, y_pred, y_score, _ = _random_rows(120, 2, seed=9)
    sums = stats.group_cell_sums(group_codes, 2, y_true, y_pred, y_score)
    left_out, rows = stats.leave_one_out(sums)
    assert rows.sum() == 120  # every row is left out once, in its cell's entry
    index = np.flatnonzero(sums.rows)
    for entry in (0, len(rows) // 2, len(rows) - 1):
        # The first row of that cell, deleted from the data.
        cell = np.unravel_index(index[entry], sums.rows.shape)
        bins = stats.calibration_bins(y_score)
        row = np.flatnonzero((group_codes == cell[0]) & (bins == cell[1])
                             & (y_true == cell[2]) & (y_pred == cell[3]))[0]
        keep = np.arange(120) != row
        direct = stats.group_cell_sums(group_codes[keep], 2, y_true[keep], y_pred[keep],
                                       y_score[keep])
        np.testing.assert_allclose(left_out.rows[entry], direct.rows)
        np.testing.assert_allclose(left_out.weight[entry], direct.weight)
        # Scores vary within a cell: the row left out is the cell's average row.
        np.testing.assert_allclose(left_out.weighted_score[entry].sum(),
                                   direct.weighted_score.sum()
                                   + y_score[row] - sums.weighted_score[cell] / sums.rows[cell])


def test_group_roc_auc_matches_sklearn_and_is_nan_for_one_class():
    from sklearn.metrics import roc_auc_score

    group_codes, y_true, _, y_score, sample_weight = _random_rows(500, 3, seed=10)
    y_score = np.round(y_score, 1)  # many ties
    y_true[group_codes == 2] = 1  # one class only
    auc = stats.group_roc_auc(group_codes, 3, y_true, y_score, sample_weight)
    for group in range(2):
        rows = group_codes == group
        assert auc[group] == pytest.approx(roc_auc_score(
            y_true[rows], y_score[rows], sample_weight=sample_weight[rows]), abs=1e-12)
    assert np.isnan(auc[2])
