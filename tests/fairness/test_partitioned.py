"""The audit from counts: partitions counted and added give the rows' audit, and the counts'
bootstrap is a bootstrap of rows within groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twinaudit.fairness.audit import audit_predictions, encode_groups, fairness_audit
from twinaudit.fairness.counts import group_cell_sums, group_metrics
from twinaudit.fairness.partitioned import (
    AUC_BIN,
    CALIBRATION_BIN,
    HISTOGRAM_BIN,
    LABEL,
    PREDICTION,
    ROWS,
    SCORE_SQUARES,
    SCORE_SUM,
    CountTable,
    add_counts,
    count_rows,
)

from helpers import COMPAS_CSV, diabetes_frame, numeric_differences


def compas_scores() -> pd.DataFrame:
    """ProPublica's COMPAS file: the two-year label, the decile score as a probability with
    seeded jitter (so scores are continuous), race and sex."""
    frame = pd.read_csv(COMPAS_CSV)
    jitter = np.random.default_rng(0).normal(0, 0.03, len(frame))
    return pd.DataFrame({
        "label": frame["two_year_recid"],
        "score": np.clip((frame["decile_score"].to_numpy() - 0.5) / 10 + jitter, 0, 1),
        "race": frame["race"], "sex": frame["sex"]})


def diabetes_scores() -> pd.DataFrame:
    """scikit-learn's diabetes data, scored by a logistic regression on its body-mass index
    and blood pressure; sex is the group."""
    from sklearn.linear_model import LogisticRegression

    frame = diabetes_frame()
    inputs = frame[["bmi", "bp"]].to_numpy()
    model = LogisticRegression().fit(inputs, frame["progression"])
    return pd.DataFrame({"label": frame["progression"],
                         "score": model.predict_proba(inputs)[:, 1], "sex": frame["sex"]})


CASES = {"compas": (compas_scores, ["race", "sex"], {"race": "Caucasian", "sex": "Male"}),
         "diabetes": (diabetes_scores, ["sex"], {"sex": "a"})}


def counted(table: pd.DataFrame, sensitive: list[str], parts: int) -> pd.DataFrame:
    pieces = np.array_split(np.arange(len(table)), parts)
    return add_counts(*(count_rows(table.iloc[piece], label="label", sensitive=sensitive,
                                   score="score") for piece in pieces))


def count_source(table: pd.DataFrame) -> CountTable:
    return CountTable(
        table[LABEL].to_numpy(np.intp), table[PREDICTION].to_numpy(np.intp),
        table[ROWS].to_numpy(), auc_bin=table[AUC_BIN].to_numpy(np.intp),
        calibration_bin=table[CALIBRATION_BIN].to_numpy(np.intp),
        histogram_bin=table[HISTOGRAM_BIN].to_numpy(np.intp),
        score_sum=table[SCORE_SUM].to_numpy(), score_squares=table[SCORE_SQUARES].to_numpy())


@pytest.mark.parametrize("case", CASES)
def test_counted_partitions_give_the_audit_of_the_rows_on_public_data(case):
    build, sensitive, privileged = CASES[case]
    table = build()
    options = {"group_sets": [[column] for column in sensitive] + (
        [sensitive] if len(sensitive) > 1 else []), "privileged": privileged,
        "n_resamples": 300, "random_state": 4}
    rows = fairness_audit(table["label"], (table["score"] >= 0.5).astype(int), table["score"],
                          table[sensitive], **options)
    counts = counted(table, sensitive, parts=7)
    # The sum of the partitions' counts is the whole table's count, key for key.
    whole = counted(table, sensitive, parts=1)
    keys = [column for column in whole.columns if column not in (ROWS, SCORE_SUM,
                                                                  SCORE_SQUARES)]
    pd.testing.assert_frame_equal(
        counts.sort_values(keys).reset_index(drop=True)[[*keys, ROWS]],
        whole.sort_values(keys).reset_index(drop=True)[[*keys, ROWS]])
    assert counts[ROWS].sum() == len(table) and len(counts) < len(table)
    audit = audit_predictions(count_source(counts), counts[sensitive].reset_index(drop=True),
                              len(table), **options)
    found, auc = numeric_differences(rows, audit)
    assert found == []
    # Scores in 10,000 bins: ties within a bin move the AUC by at most a few 1e-5 here.
    assert auc and max(auc) < 1e-3
    # The comparison has teeth: one row more in one cell is seen.
    counts.loc[0, ROWS] += 1
    assert numeric_differences(rows, audit_predictions(
        count_source(counts), counts[sensitive].reset_index(drop=True), len(table) + 1,
        **options))[0]


def test_the_count_bootstrap_resamples_rows_within_groups():
    """The counts' bootstrap against resampling rows by hand, within each group, 4,000 times
    each: the selection rates' and calibration errors' resampled means and spreads agree
    within Monte Carlo error."""
    random = np.random.default_rng(11)
    sizes = {"a": 40, "b": 90, "c": 25}
    group = np.repeat(list(sizes), list(sizes.values()))
    score = random.beta(2, 3, len(group)) + np.where(group == "b", 0.15, 0.0)
    score = np.clip(score, 0, 1)
    label = (random.random(len(group)) < score).astype(int)
    table = pd.DataFrame({"label": label, "score": score, "group": group})
    counts = add_counts(count_rows(table, label="label", sensitive=["group"], score="score"))
    grouping = encode_groups(counts[["group"]].reset_index(drop=True), ["group"])
    resamples = 4000
    drawn = group_metrics(count_source(counts).resample(grouping, resamples,
                                                        np.random.default_rng(5)))

    by_hand = {"selection_rate": [], "expected_calibration_error": []}
    members = [np.flatnonzero(group == name) for name in sizes]
    for _ in range(resamples):
        picked = np.concatenate([random.choice(rows, len(rows)) for rows in members])
        audit_rows = encode_groups(table.iloc[picked][["group"]].reset_index(drop=True),
                                   ["group"])
        metrics = group_metrics(group_cell_sums(
            audit_rows.codes, audit_rows.n_groups, label[picked],
            (score[picked] >= 0.5).astype(int), score[picked]))
        for name, values in by_hand.items():
            values.append(metrics[name])
    for name, values in by_hand.items():
        rows_draws, count_draws = np.array(values), drawn[name]
        spread = rows_draws.std(axis=0)
        # Means within 4 standard errors; spreads within 10 % (4,000 draws: ~1.1 % error).
        assert np.all(np.abs(rows_draws.mean(0) - count_draws.mean(0))
                      < 4 * spread / np.sqrt(resamples)), name
        assert np.allclose(count_draws.std(0), spread, rtol=0.1), name
