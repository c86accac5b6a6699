"""The tabular pipeline: a :class:`SourceTable` split, preprocessed and made a :class:`Dataset`.

Whatever the source (bundled Adult, the seeded synthetic table, a user's CSV), the same numpy
pipeline splits the rows (:mod:`twinaudit.data.splits`), fits the preprocessing on the
training split only, and keeps the sensitive features beside the inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twinaudit.data.dataset import Dataset, Split
from twinaudit.data.preprocess import TabularPreprocessor
from twinaudit.data.source import SourceTable, column_list
from twinaudit.data.splits import held_out_split, subsample
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection


def build_dataset(source: SourceTable, data: DataSection) -> Dataset:
    """Split a :class:`SourceTable` and preprocess it as the ``[data]`` section says."""
    frames = [source.train] + ([source.test] if source.test is not None else [])
    for column in data.sensitive_features:
        if column not in source.train.columns:
            raise TwinauditError(
                f"{source.origin}: no sensitive column '{column}' "
                f"(columns are: {column_list(source.train.columns)})"
            )
    if source.label in data.sensitive_features:
        raise TwinauditError(f"{source.origin}: the label '{source.label}' cannot be sensitive")
    for column in data.sensitive_features:
        _check_groups_column(source, column)
    labels = {value for frame in frames for value in _label_values(frame, source)}
    if source.positive not in labels or len(labels) != 2:
        raise TwinauditError(
            f"{source.origin}: label column '{source.label}' must hold exactly two values, "
            f"one of them '{source.positive}' (found {len(labels)}: "
            f"{', '.join(sorted(labels)[:5])}{', ...' if len(labels) > 5 else ''})"
        )

    rng = np.random.default_rng(data.split_seed)
    train_frame = source.train.reset_index(drop=True)
    train_frame["_row_id"] = np.arange(len(train_frame))
    if source.test is None:
        train_frame, test_frame = held_out_split(train_frame, data.test_fraction, rng)
    else:
        test_frame = source.test.reset_index(drop=True)
        test_frame["_row_id"] = np.arange(len(test_frame))
    train_frame, validation_frame = held_out_split(train_frame, data.validation_fraction, rng)
    train_frame = subsample(train_frame, data.max_train_rows, rng)
    test_frame = subsample(test_frame, data.max_test_rows, rng)
    for name, frame in (("train", train_frame), ("validation", validation_frame),
                        ("test", test_frame)):
        if len(frame) == 0:
            raise TwinauditError(f"{source.origin}: the {name} split is empty (too few rows)")

    excluded = set() if data.sensitive_as_inputs else set(data.sensitive_features)
    preprocessor = TabularPreprocessor(
        [c for c in source.numeric_columns if c not in excluded],
        [c for c in source.categorical_columns if c not in excluded],
    ).fit(train_frame)

    def to_split(frame: pd.DataFrame) -> Split:
        sensitive = frame[data.sensitive_features].astype(str).reset_index(drop=True)
        return Split(
            X=preprocessor.transform(frame),
            y=(_label_strings(frame, source) == source.positive).to_numpy(dtype=np.int64),
            sensitive_features=sensitive,
            row_id=frame["_row_id"].to_numpy(dtype=np.int64),
        )

    return Dataset(
        name=source.name,
        train=to_split(train_frame),
        validation=to_split(validation_frame),
        test=to_split(test_frame),
        feature_names=preprocessor.feature_names_,
        label_name=source.label,
        positive_label=source.positive,
        info={**source.info, "sensitive_as_inputs": data.sensitive_as_inputs,
              "split_seed": data.split_seed},
    )


def _label_strings(frame: pd.DataFrame, source: SourceTable) -> pd.Series:
    # Labels compare as text so that a TOML "1" matches an integer column of 0/1.
    return frame[source.label].astype(str).str.strip()


def _label_values(frame: pd.DataFrame, source: SourceTable) -> set[str]:
    if frame[source.label].isna().any():
        raise TwinauditError(f"{source.origin}: label column '{source.label}' has missing values")
    return set(_label_strings(frame, source).unique())


def _check_groups_column(source: SourceTable, column: str) -> None:
    # Found here, before any training: a sensitive column without two groups has nothing to
    # compare, and its fairness metrics would fail (or mean nothing) after the twins trained.
    values = pd.concat([frame[column] for frame in (source.train, source.test)
                        if frame is not None])
    if values.isna().all():
        raise TwinauditError(f"{source.origin}: sensitive column '{column}' has only missing "
                             "values (expected at least two groups)")
    groups = values.dropna().astype(str).unique()
    if len(groups) < 2:
        raise TwinauditError(f"{source.origin}: sensitive column '{column}' holds one group only "
                             f"('{groups[0]}'; expected at least two groups to compare)")
