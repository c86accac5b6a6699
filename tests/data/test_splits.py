"""Seeded train / validation / test row indices (``twinaudit.data.splits``)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from twinaudit.data.splits import held_out_split, split_indices, subsample
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection


def rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"row": np.arange(n) * 10})


def test_held_out_split_is_disjoint_sized_in_file_order_and_seeded():
    kept, held_out = held_out_split(rows(50), 0.3, np.random.default_rng(0))
    assert len(held_out) == 15 and len(kept) == 35                 # round(0.3 · 50)
    assert set(kept["row"]).isdisjoint(held_out["row"])
    assert sorted([*kept["row"], *held_out["row"]]) == list(rows(50)["row"])
    assert kept["row"].is_monotonic_increasing and held_out["row"].is_monotonic_increasing
    again = held_out_split(rows(50), 0.3, np.random.default_rng(0))[1]
    other = held_out_split(rows(50), 0.3, np.random.default_rng(1))[1]
    assert again["row"].tolist() == held_out["row"].tolist()
    assert other["row"].tolist() != held_out["row"].tolist()


def test_held_out_split_rounds_the_fraction_and_may_hold_out_nothing():
    assert len(held_out_split(rows(7), 0.5, np.random.default_rng(0))[1]) == 4   # 3.5 -> 4
    kept, held_out = held_out_split(rows(7), 0.0, np.random.default_rng(0))
    assert len(held_out) == 0 and kept["row"].tolist() == rows(7)["row"].tolist()


def test_subsample_keeps_at_most_max_rows_in_file_order():
    frame = rows(20)
    sample = subsample(frame, 6, np.random.default_rng(2))
    assert len(sample) == 6 and sample["row"].is_monotonic_increasing
    assert set(sample["row"]) <= set(frame["row"])
    assert sample["row"].tolist() == subsample(frame, 6, np.random.default_rng(2))["row"].tolist()
    assert sample["row"].tolist() != subsample(frame, 6, np.random.default_rng(3))["row"].tolist()
    # 0 (all of them), or a frame already small enough: unchanged, the same object.
    assert subsample(frame, 0, np.random.default_rng(2)) is frame
    assert subsample(frame, 20, np.random.default_rng(2)) is frame


def test_split_indices_partition_the_rows_sorted_and_follow_the_seed():
    data = DataSection(dataset="digits", test_fraction=0.25, validation_fraction=0.2,
                       split_seed=5)
    splits = split_indices(100, data, origin="toy")
    assert list(splits) == ["train", "validation", "test"]
    assert [len(splits[name]) for name in splits] == [60, 15, 25]   # 25; 0.2 · 75 = 15
    assert sorted(np.concatenate(list(splits.values()))) == list(range(100))
    assert all((np.diff(part) > 0).all() for part in splits.values())
    again = split_indices(100, data, origin="toy")
    assert all(np.array_equal(again[name], splits[name]) for name in splits)
    other = split_indices(100, replace(data, split_seed=6), origin="toy")
    assert not np.array_equal(other["test"], splits["test"])


def test_split_indices_subsample_train_and_test_only():
    data = DataSection(dataset="digits", test_fraction=0.25, validation_fraction=0.2,
                       max_train_rows=10, max_test_rows=5)
    splits = split_indices(100, data, origin="toy")
    assert [len(splits[name]) for name in splits] == [10, 15, 5]
    full = split_indices(100, replace(data, max_train_rows=0, max_test_rows=0), origin="toy")
    # The subsets are drawn from the same splits (the draws come after the splits').
    assert set(splits["train"]) <= set(full["train"])
    assert set(splits["test"]) <= set(full["test"])
    np.testing.assert_array_equal(splits["validation"], full["validation"])


def test_split_indices_refuse_an_empty_split():
    with pytest.raises(TwinauditError, match="toy: the validation split is empty"):
        split_indices(3, DataSection(dataset="digits", test_fraction=0.34,
                                     validation_fraction=0.2), origin="toy")
