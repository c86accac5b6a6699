"""The privacy stage's own arithmetic: shadow halves, and the per-group accuracy cost of
DP-SGD worked by hand."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.privacy.audit import group_accuracy_cost, shadow_halves


def test_shadow_halves_leave_every_row_out_of_exactly_half_the_shadows():
    halves = shadow_halves(101, 4, random_state=0)
    assert len(halves) == 4
    inside = np.zeros(101, int)
    for rows in halves:
        inside[rows] += 1
    assert set(inside) == {2}  # complementary pairs: in two shadows, out of two
    assert not np.array_equal(halves[0], halves[2])  # the pairs are different draws


def _frame(variant_right: dict[int, list[int]], groups: list[str]) -> pd.DataFrame:
    """Predictions of the torch twins of each seed: y_true 1, y_pred 1 where right."""
    return pd.concat([pd.DataFrame({"framework": "torch", "seed": seed, "y_true": 1,
                                    "y_pred": right, "sex": groups})
                      for seed, right in variant_right.items()], ignore_index=True)


def test_group_accuracy_cost_by_hand():
    groups = ["a", "a", "a", "a", "b", "b"]
    before = _frame({0: [1, 1, 1, 1, 1, 1], 1: [1, 1, 1, 0, 1, 1]}, groups)
    after = _frame({0: [1, 1, 1, 0, 0, 1], 1: [1, 1, 0, 0, 0, 0]}, groups)
    train = pd.DataFrame({"sex": ["a"] * 60 + ["b"] * 40})
    out = group_accuracy_cost(after, before, train, [["sex"]], confidence=0.95,
                              min_group_size=30, n_resamples=400, random_state=0)
    a, b = out["torch"]["sex"]["groups"]
    # a: before 4/4, 3/4 → 0.875; after 3/4, 2/4 → 0.625; losses 0.25, 0.25.
    assert (a["before"], a["after"], a["loss"]["mean"]) == (0.875, 0.625, 0.25)
    # b: before 1, 1; after 1/2, 0 → losses 0.5, 1.0.
    assert (b["before"], b["after"], b["loss"]["mean"]) == (1.0, 0.25, 0.75)
    assert (a["train_rows"], a["test_rows"], b["test_rows"]) == (60, 4, 2)
    versus = out["torch"]["sex"]["smallest_vs_largest"]
    assert (versus["smallest"], versus["largest"]) == ("b", "a")
    assert versus["difference"]["mean"] == pytest.approx(0.5)  # 0.75 − 0.25
    # The rows' interval holds the point; b's two rows lose 0.5 and 1.0 on average.
    assert b["rows_ci"][0] <= 0.75 <= b["rows_ci"][1] and b["rows_ci"][0] >= 0.5
    # Groups under min_group_size training rows are left out.
    fewer = group_accuracy_cost(after, before, train, [["sex"]], confidence=0.95,
                                min_group_size=50, n_resamples=10, random_state=0)
    assert [g["group"] for g in fewer["torch"]["sex"]["groups"]] == ["a"]
    assert "smallest_vs_largest" not in fewer["torch"]["sex"]
