"""``twinaudit init``: a commented starter audit definition for a user's own table.

The table is read exactly as the ``csv`` data set reads it (:func:`twinaudit.data.csv_table.
load_source`: the same reader, the same numeric/categorical typing), profiled
(:mod:`twinaudit.data.profile`), and written as ``audits/<name>.toml`` with every choice
explained in a comment. Every check runs before anything is written; the TOML is validated
with the spec loader before it is written, so it always loads.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from twinaudit.data.csv_table import load_source
from twinaudit.data.profile import check_levels, input_warnings, numeric_sensitive_suggestion
from twinaudit.data.source import SourceTable, column_list
from twinaudit.errors import TwinauditError
from twinaudit.vocabulary import is_safe_audit_name

#: Column names taken as sensitive features when none is given (lower case, '-' and ' ' as
#: '_').
USUAL_SENSITIVE = ("sex", "gender", "race", "ethnicity", "age", "religion", "nationality",
                   "marital_status", "disability")
#: The folders of an audit workspace (the layout AuditSpec.workspace expects).
WORKSPACE_FOLDERS = ("audits", "models", "reports")
#: The warnings that put a column in the suggested drop_columns.
DROPPED_KINDS = ("id_like", "leak")


@dataclass(frozen=True)
class Starter:
    """What ``twinaudit init`` wrote, and the choices it made for the user to hear about."""

    path: Path
    name: str
    positive: str
    #: How the positive value was chosen, when it was not given (None when it was).
    positive_note: str | None
    sensitive: list[str]
    #: Set when the sensitive features were recognised by name rather than given.
    sensitive_guessed: bool
    warnings: list[dict] = field(default_factory=list)
    drop_columns: list[str] = field(default_factory=list)


def safe_name(stem: str) -> str:
    """``stem`` as an audit name: other characters become '_', no leading dot, no '..'."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)
    name = re.sub(r"\.{2,}", ".", name).lstrip("._-")
    return name if is_safe_audit_name(name) else "audit"


def write_starter(data: Path, *, label: str, positive: str | None = None,
                  sensitive: Sequence[str] = (), name: str | None = None, force: bool = False,
                  folder: Path | None = None) -> Starter:
    """Profile ``data`` and write ``<folder>/audits/<name>.toml`` (folder: the current one).

    Raises
    ------
    TwinauditError
        One line naming the file and the column: a missing or unreadable file, an unknown label
        or sensitive column, a label with one value, an existing TOML without ``force``.
    """
    folder = Path() if folder is None else folder
    data = Path(data)
    if name is None:
        name = safe_name(data.stem)
    elif not is_safe_audit_name(name):
        raise TwinauditError(f"--name {name!r}: expected a plain folder and file name (letters, "
                             "digits, '_', '-', '.'; no '..')")
    target = folder / "audits" / f"{name}.toml"
    if target.exists() and not force:
        raise TwinauditError(f"{target}: already exists (pass --force to overwrite it)")

    source = load_source(data, label=label, positive=positive or "", sensitive=sensitive)
    frame = source.train
    labels = _label_strings(data, frame, label)
    counts = labels.value_counts()
    if len(counts) < 2:
        raise TwinauditError(f"{data}: label column '{column_list([label])}' holds one value "
                             f"only ('{counts.index[0]}'; expected two to predict)")
    positive_note = None
    if positive is None:
        # The rarer value, ties broken by the value's text: the class an audit is usually about.
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]))
        positive = str(ranked[0][0])
        positive_note = (f"the minority label value ({int(ranked[0][1]):,} of {len(labels):,} "
                         "rows)")
    elif positive not in counts.index:
        raise TwinauditError(
            f"{data}: label column '{column_list([label])}' has no value '{positive}' (values "
            f"are: {column_list(sorted(counts.index))})")
    sensitive_guessed = not sensitive
    sensitive = list(dict.fromkeys(sensitive)) or _usual_sensitive(data, frame, label)
    _check_sensitive(data, frame, label, sensitive)

    numeric = [c for c in source.numeric_columns if c != label]
    categorical = [c for c in source.categorical_columns if c != label]
    y = (labels == positive).to_numpy(dtype=np.int64)
    warnings = input_warnings(frame, y, numeric=numeric, categorical=categorical)
    drops = [w["column"] for w in warnings
             if w["kind"] in DROPPED_KINDS and w["column"] not in sensitive]
    drops = list(dict.fromkeys(drops))
    try:
        check_levels(frame, [c for c in categorical if c not in drops], origin=str(data))
    except TwinauditError as error:
        warnings.append({"kind": "too_many_inputs", "column": "",
                         "message": f"{error} (twinaudit run would stop here)"})
    bins = {column: edges for column in sensitive
            if column in numeric
            and (edges := numeric_sensitive_suggestion(frame[column])) is not None}

    text = render_starter(
        source, name=name, data_path=_relative(data, target.parent), positive=positive,
        positive_note=positive_note, labels=counts, sensitive=sensitive,
        sensitive_guessed=sensitive_guessed, bins=bins, drops=drops, warnings=warnings,
        numeric=numeric, categorical=categorical)
    _validate(text, target)
    for sub in WORKSPACE_FOLDERS:
        (folder / sub).mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return Starter(path=target, name=name, positive=positive, positive_note=positive_note,
                   sensitive=sensitive, sensitive_guessed=sensitive_guessed, warnings=warnings,
                   drop_columns=drops)


def render_starter(source: SourceTable, *, name: str, data_path: str, positive: str,
                   positive_note: str | None, labels: pd.Series, sensitive: list[str],
                   sensitive_guessed: bool, bins: dict[str, list[float]], drops: list[str],
                   warnings: list[dict], numeric: list[str], categorical: list[str]) -> str:
    """The starter TOML's text."""
    frame, label = source.train, source.label
    reasons: dict[str, list[str]] = {}
    for warning in warnings:
        if warning["column"] in drops:
            reasons.setdefault(warning["column"], []).append(_reason(warning))
    lines = [
        f"# Starter audit definition written by `twinaudit init` from {_comment(data_path)}",
        f"# ({len(frame):,} rows, {len(frame.columns):,} columns). Review every line, then run:",
        f"#   twinaudit run audits/{name}.toml",
        "# Every key and its meaning: `twinaudit schema audit`, or src/twinaudit/spec/sections.py.",
        "",
        "[audit]",
        f"name = {_string(name)}",
        '# description = "What the model decides, for whom"',
        "",
        "[data]",
        'dataset = "csv"',
        "# The table, relative to this file's folder.",
        f"path = {_string(data_path)}",
        f"label = {_string(label)}",
        "# The label value predicted as 1; label values: "
        + _comment(", ".join(f"{value} ({count:,} rows)" for value, count in
                             labels.head(10).items()))
        + (", ..." if len(labels) > 10 else "") + ".",
    ]
    if positive_note:
        lines.append(f"# Chosen by twinaudit init: {positive_note}; set the value the model "
                     "predicts.")
    if len(labels) > 2:
        lines.append(f"# The label has {len(labels)} values: the audit predicts this one "
                     "against the rest.")
    other = next((str(value) for value in labels.index if str(value) != positive), positive)
    lines += [
        f"positive = {_string(positive)}",
        "# The label value that is the good outcome for the person (default: positive).",
        f"# favourable = {_string(other)}",
    ]
    if sensitive_guessed:
        lines.append("# Recognised by their names (twinaudit init --sensitive COL chooses): "
                     "check them.")
    lines.append("# The groups the fairness audit compares (also model inputs; "
                 "sensitive_as_inputs = false leaves them out).")
    lines.append(f"sensitive_features = [{', '.join(_string(c) for c in sensitive)}]")
    if bins:
        lines.append("# Numeric sensitive columns cut into groups at these inner edges (their "
                     "quartiles, rounded); a number, {age = 4}, cuts that many quantile groups.")
        lines.append("bins = {" + ", ".join(f"{_key(column)} = [{', '.join(map(_number, edges))}]"
                                            for column, edges in bins.items()) + "}")
    if drops:
        lines.append("# Suggested: columns left out of the model inputs (check each reason).")
        lines.append("drop_columns = [")
        for column in drops:
            lines.append(f"    {_string(column)},  # {_comment('; '.join(reasons[column]))}")
        lines.append("]")
    else:
        lines.append("# Columns left out of the model inputs (none suggested):")
        lines.append("# drop_columns = []")
    example = _filter_example(frame, [c for c in [*categorical, *numeric]
                                      if c not in sensitive and c not in drops], numeric)
    keep = [c for c in [*numeric, *categorical] if c not in drops][:3]
    lines += [
        "# Or a keep-list of the inputs instead (not both):",
        f"# features = [{', '.join(_string(c) for c in keep)}]",
        "# Rows kept: those passing every filter (op: ==, !=, <, <=, >, >=, in, not in).",
        f"# filters = [{example}]",
        "# A score at or above this is a positive prediction.",
        "# threshold = 0.5",
        "",
        f"# The columns as the audit reads them ({len(numeric)} numeric: standardised; "
        f"{len(categorical)} categorical: one-hot, one input per level):",
    ]
    width = min(max((len(_comment(c)) for c in frame.columns), default=0), 30)
    for column in frame.columns:
        if column == label:
            kind = "the label"
        elif column in numeric:
            kind = f"numeric, {int(frame[column].nunique()):,} distinct values"
        else:
            kind = f"categorical, {int(frame[column].nunique()):,} levels"
        role = []
        if column in sensitive:
            role.append("sensitive")
        if column in drops:
            role.append("suggested drop")
        suffix = f" ({', '.join(role)})" if role else ""
        lines.append(f"#   {_comment(column).ljust(width)}  {kind}{suffix}")
    lines.append("")
    if warnings:
        lines.append(f"# Warnings about the model inputs ({len(warnings)}):")
        lines += [f"#   {warning['kind']}: {_comment(warning['message'])}" for warning in warnings]
    else:
        lines.append("# No warnings about the model inputs (identifiers, many levels, leaks).")
    lines += [
        "",
        "[fairness]",
        "# Groups with fewer test rows are shown but left out of the headline disparities.",
        "# min_group_size = 30",
        "",
        "[model_card]",
        "# What only the model's owner can say; the report shows it in the model card.",
        '# owner = "Team or person responsible"',
        '# licence = "The licence of the model"',
        '# intended_use = "The decisions the model supports, and for whom"',
        "",
    ]
    return "\n".join(lines)


def _filter_example(frame: pd.DataFrame, columns: list[str], numeric: list[str]) -> str:
    """A filters entry that loads and means something for this table: a categorical column
    without its rarest level, or a numeric one from its lowest value."""
    if not columns:
        return '{column = "COLUMN", op = "!=", value = "VALUE"}'
    column = columns[0]
    if column in numeric:
        low = frame[column].min()
        value = _number(float(low)) if pd.notna(low) else "0"
        return f"{{column = {_string(column)}, op = \">=\", value = {value}}}"
    rarest = str(frame[column].value_counts().index[-1])
    return f"{{column = {_string(column)}, op = \"!=\", value = {_string(rarest)}}}"


def _label_strings(data: Path, frame: pd.DataFrame, label: str) -> pd.Series:
    # As the tabular pipeline compares them: text, so that positive = "1" matches 0/1 ints.
    values = frame[label]
    missing = int(values.isna().sum())
    if missing:
        raise TwinauditError(f"{data}: label column '{column_list([label])}' has {missing:,} "
                             "missing values (expected a label on every row)")
    return values.astype(str).str.strip()


def _usual_sensitive(data: Path, frame: pd.DataFrame, label: str) -> list[str]:
    found = [c for c in frame.columns if c != label and
             re.sub(r"[\s-]+", "_", str(c).strip().lower()) in USUAL_SENSITIVE]
    if not found:
        raise TwinauditError(f"{data}: no sensitive column given and none recognised by name "
                             f"(pass --sensitive COL; columns are: {column_list(frame.columns)})")
    return found


def _check_sensitive(data: Path, frame: pd.DataFrame, label: str, sensitive: list[str]) -> None:
    for column in sensitive:
        if column not in frame.columns:
            raise TwinauditError(f"{data}: no sensitive column '{column_list([column])}' "
                                 f"(columns are: {column_list(frame.columns)})")
        if column == label:
            raise TwinauditError(f"{data}: the label '{column_list([label])}' cannot be "
                                 "sensitive")
        groups = frame[column].dropna().astype(str).unique()
        if len(groups) < 2:
            raise TwinauditError(f"{data}: sensitive column '{column_list([column])}' holds "
                                 f"{len(groups)} group(s) (expected at least two to compare)")


def _relative(data: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(data.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return data.resolve().as_posix()


def _validate(text: str, target: Path) -> None:
    """The starter must load as an audit definition; a failure here is a bug of ours."""
    from twinaudit.spec.load import spec_from_dict

    spec_from_dict(tomllib.loads(text), source=target)


def _reason(warning: dict) -> str:
    kind = {"id_like": "ID-like", "leak": "leak"}.get(warning["kind"], warning["kind"])
    message = warning["message"]
    # The warning without the column's name (it heads the line) and without its advice (the
    # advice is this very line).
    for prefix in (f"column '{column_list([warning['column']])}' ",
                   f"categorical column '{column_list([warning['column']])}' "):
        message = message.removeprefix(prefix)
    return f"{kind}: {message.rsplit('): ', 1)[0] + ')' if '): ' in message else message}"


def _string(value: str) -> str:
    """A TOML basic string."""
    escaped = []
    for char in str(value):
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _key(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_-]+", value) else _string(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _comment(text: object) -> str:
    """Text safe inside a TOML comment: one line, no control characters."""
    return "".join(char if char.isprintable() else " " for char in str(text))
