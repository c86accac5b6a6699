"""The tabular pipeline: a :class:`SourceTable` split, preprocessed and made a :class:`Dataset`.

Whatever the source (bundled Adult, the seeded synthetic table, a user's CSV), the same numpy
pipeline splits the rows (:mod:`twinaudit.data.splits`), fits the preprocessing on the
training split only, and keeps the sensitive features beside the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    for column in data.sensitive_features:
        if column not in source.train.columns:
            raise TwinauditError(
                f"{source.origin}: no sensitive column '{column}' "
                f"(columns are: {column_list(source.train.columns)})"
            )
    if source.label in data.sensitive_features:
        raise TwinauditError(f"{source.origin}: the label '{source.label}' cannot be sensitive")
    for column in data.sensitive_features:
        check_groups_column(source, column)
    outcome = label_outcome(source, data)

    rng = np.random.default_rng(data.split_seed)
    train_frame = _with_groups(source.train, source, data)
    if source.test is None:
        train_frame, test_frame = held_out_split(train_frame, data.test_fraction, rng,
                                                 _strata(train_frame, source, data))
    else:
        test_frame = _with_groups(source.test, source, data)
    train_frame, validation_frame = held_out_split(train_frame, data.validation_fraction, rng,
                                                   _strata(train_frame, source, data))
    train_frame = subsample(train_frame, data.max_train_rows, rng)
    test_frame = subsample(test_frame, data.max_test_rows, rng)
    for name, frame in (("train", train_frame), ("validation", validation_frame),
                        ("test", test_frame)):
        if len(frame) == 0:
            raise TwinauditError(f"{source.origin}: the {name} split is empty (too few rows)")

    excluded = set() if data.sensitive_as_inputs else set(data.sensitive_features)
    numeric = [c for c in source.numeric_columns if c not in excluded]
    categorical = [c for c in source.categorical_columns if c not in excluded]
    from twinaudit.data import profile

    # Before any training: an input that would one-hot encode into tens of thousands of
    # columns is an error; ID-like columns, many-level ones and single-column leaks are
    # warnings the run prints and the report shows.
    profile.check_levels(train_frame, categorical, origin=source.origin)
    warnings = profile.input_warnings(
        train_frame, outcome.binary(train_frame[source.label]), numeric=numeric,
        categorical=categorical)
    preprocessor = TabularPreprocessor(numeric, categorical).fit(train_frame)

    def to_split(frame: pd.DataFrame) -> Split:
        sensitive = frame[_group_names(data)].reset_index(drop=True)
        sensitive.columns = list(data.sensitive_features)
        return Split(
            X=preprocessor.transform(frame),
            y=outcome.binary(frame[source.label]),
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
        favourable_label=outcome.favourable_label,
        info={"split": _split_description(source, data), **source.info, **outcome.info,
              "sensitive_as_inputs": data.sensitive_as_inputs,
              "split_seed": data.split_seed, "stratified": data.stratify,
              **({"bins": group_bins(source, data)} if data.bins else {}),
              **({"warnings": warnings} if warnings else {})},
    )


def _split_description(source: SourceTable, data: DataSection) -> str:
    """The split twinaudit drew, in words, for the model card (a source may say its own)."""
    held = f"test {data.test_fraction:g} of the rows, " if source.test is None else \
        "the source's own test rows, "
    strata = ", stratified by label × sensitive groups" if data.stratify else ""
    return (f"drawn by twinaudit: {held}validation {data.validation_fraction:g} of the rest"
            f"{strata}, split_seed {data.split_seed}")


@dataclass(frozen=True)
class LabelOutcome:
    """What the label means: the value predicted as 1, and which outcome is good for people.

    ``favourable_label`` is the value of ``y`` (1 or 0) that is the favourable outcome.
    A label of more than two values is ``positive`` against the rest (one-vs-rest).
    """

    positive: str
    favourable_label: int
    info: dict[str, Any]

    def binary(self, labels: pd.Series) -> np.ndarray:
        return (_label_text(labels) == self.positive).to_numpy(dtype=np.int64)


#: ``[data] favourable`` for a one-vs-rest label whose favourable outcome is "not positive".
REST = "rest"


def label_outcome(source: SourceTable, data: DataSection) -> LabelOutcome:
    """Check the label's values against ``positive`` and ``favourable``, before any training."""
    frames = [source.train] + ([source.test] if source.test is not None else [])
    labels = sorted({value for frame in frames for value in _label_values(frame, source)})
    shown = column_list(labels, limit=5)  # escaped: a label may hold a line break
    if source.positive not in labels or len(labels) < 2:
        raise TwinauditError(
            f"{source.origin}: label column '{source.label}' must hold at least two values, "
            f"one of them the positive '{source.positive}' (found {len(labels)}: {shown})")
    rest = [label for label in labels if label != source.positive]
    favourable = data.favourable or source.positive
    if len(rest) == 1 and favourable == REST:
        favourable = rest[0]
    allowed = [source.positive, *(rest if len(rest) == 1 else [REST])]
    if favourable not in allowed:
        raise TwinauditError(
            f"{source.origin}: [data] favourable = '{column_list([favourable])}' is not an "
            f"outcome of label '{source.label}' (expected one of: {column_list(allowed)})")
    info: dict[str, Any] = {"favourable": favourable}
    if len(rest) > 1:
        # One-vs-rest: the report says so, since every rate is then of one value against all.
        info["one_vs_rest"] = {"positive": source.positive, "rest": rest}
    return LabelOutcome(source.positive, int(favourable == source.positive), info)


def _group_names(data: DataSection) -> list[str]:
    return [f"_group_{column}" for column in data.sensitive_features]


def group_columns(frame: pd.DataFrame, source: SourceTable, data: DataSection) -> pd.DataFrame:
    """Each sensitive column's group labels as text, binned where ``[data] bins`` says."""
    edges = group_bins(source, data)
    return pd.DataFrame({
        column: _bin_labels(frame[column], edges[column]) if column in edges
        else frame[column].astype(str)
        for column in data.sensitive_features}, index=frame.index)


def _with_groups(frame: pd.DataFrame, source: SourceTable, data: DataSection) -> pd.DataFrame:
    """The frame with a row id and the group labels beside the sensitive columns themselves
    (which stay inputs as they were)."""
    frame = frame.reset_index(drop=True)
    frame["_row_id"] = np.arange(len(frame))
    groups = group_columns(frame, source, data)
    groups.columns = _group_names(data)
    return pd.concat([frame, groups], axis=1)


def _strata(frame: pd.DataFrame, source: SourceTable, data: DataSection) -> np.ndarray | None:
    if not data.stratify:
        return None
    keys = frame[[source.label, *_group_names(data)]].astype(str)
    return keys.agg("\x1f".join, axis=1).to_numpy()


#: A numeric sensitive column with more distinct values than this needs ``[data] bins``: as
#: groups, 46 ages are 46 groups, most too small to say anything.
MAX_NUMERIC_GROUPS = 10


def group_bins(source: SourceTable, data: DataSection) -> dict[str, list[float]]:
    """Inner bin edges per binned sensitive column (quantile counts resolved on all rows),
    or an error for a many-valued numeric sensitive column that has no bins."""
    edges: dict[str, list[float]] = {}
    for column in data.sensitive_features:
        values = pd.concat([frame[column] for frame in (source.train, source.test)
                            if frame is not None], ignore_index=True)
        numeric = pd.api.types.is_numeric_dtype(values) and \
            not pd.api.types.is_bool_dtype(values)
        bins = data.bins.get(column)
        if bins is None:
            if numeric and values.nunique() > MAX_NUMERIC_GROUPS:
                from twinaudit.data.profile import numeric_sensitive_suggestion

                suggested = numeric_sensitive_suggestion(values) or []
                raise TwinauditError(
                    f"{source.origin}: sensitive column '{column}' is numeric with "
                    f"{values.nunique()} values (each would be a group); give [data] bins, "
                    f"e.g. bins = {{{column} = {[_readable(e) for e in suggested]}}} "
                    f"(inner edges) or {{{column} = 4}} (quantile groups)")
            continue
        if not numeric:
            raise TwinauditError(f"{source.origin}: [data] bins.{column}: column '{column}' is "
                                 "not numeric (expected numbers to cut into groups)")
        if isinstance(bins, int):
            # Quantiles of every row, not only the training split's: the groups are what the
            # audit reports on, not a statistic the model is fitted with.
            cut = np.unique(np.nanquantile(values.to_numpy(np.float64),
                                           np.arange(1, bins) / bins))
            edges[column] = [float(edge) for edge in cut]
        else:
            edges[column] = [float(edge) for edge in bins]
    return edges


def _readable(edge: float) -> float | int:
    return int(edge) if float(edge).is_integer() else float(f"{edge:.3g}")


def _bin_labels(values: pd.Series, edges: list[float]) -> pd.Series:
    """'<25', '[25, 45)', '>=45' for inner edges [25, 45]; a missing value is 'Unknown'."""
    shown = [f"{_readable(edge)}" for edge in edges]
    names = [f"<{shown[0]}"] + [f"[{a}, {b})" for a, b in zip(shown, shown[1:], strict=False)] \
        + [f">={shown[-1]}"]
    index = np.searchsorted(np.asarray(edges), values.to_numpy(np.float64), side="right")
    labels = np.asarray(names, dtype=object)[np.minimum(index, len(names) - 1)]
    return pd.Series(np.where(values.isna().to_numpy(), "Unknown", labels), index=values.index)


def _label_text(labels: pd.Series) -> pd.Series:
    # Labels compare as text so that a TOML "1" matches an integer column of 0/1.
    return labels.astype(str).str.strip()


def _label_values(frame: pd.DataFrame, source: SourceTable) -> set[str]:
    if frame[source.label].isna().any():
        raise TwinauditError(f"{source.origin}: label column '{source.label}' has missing values")
    return set(_label_text(frame[source.label]).unique())


def check_groups_column(source: SourceTable, column: str) -> None:
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
                             f"('{column_list(groups)}'; expected at least two groups to compare)")
