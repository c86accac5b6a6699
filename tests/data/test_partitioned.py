"""A prediction table in many parquet files: the same audit as the one file, counts written
in place of rows, and every bad partition refused in one line naming it, before any work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twinaudit.errors import TwinauditError

from helpers import COMPAS_CSV, diabetes_frame, numeric_differences

AUDIT = """
[audit]
name = "{name}"
[data]
dataset = "predictions"
path = "{path}"
label = "{label}"
positive = "{positive}"
{prediction}
sensitive_features = {sensitive}
{extra}
[fairness]
n_resamples = 200
"""


def write(folder: Path, table: pd.DataFrame, parts: int) -> Path:
    """``table`` as one file (``whole.parquet``) and as ``parts`` files in ``parts/``."""
    folder.mkdir(parents=True, exist_ok=True)
    table.to_parquet(folder / "whole.parquet", index=False)
    (folder / "parts").mkdir()
    for index, rows in enumerate(np.array_split(np.arange(len(table)), parts)):
        table.iloc[rows].to_parquet(folder / "parts" / f"part-{index}.parquet", index=False)
    return folder


def audit(folder: Path, name: str, path: str, *, label="label", positive="yes",
          prediction='score = "score"', sensitive='["race", "sex"]', extra="") -> Path:
    toml = folder / f"{name}.toml"
    toml.write_text(AUDIT.format(name=name, path=path, label=label, positive=positive,
                                 prediction=prediction, sensitive=sensitive, extra=extra))
    return toml


def run(toml: Path) -> dict:
    from twinaudit.pipeline import run_audit
    from twinaudit.spec import load_spec

    outcome = run_audit(load_spec(toml))
    return json.loads(outcome.results_path.read_text())


@pytest.fixture(scope="module")
def compas(tmp_path_factory) -> Path:
    frame = pd.read_csv(COMPAS_CSV)
    jitter = np.random.default_rng(1).normal(0, 0.03, len(frame))
    table = pd.DataFrame({
        "label": np.where(frame["two_year_recid"] == 1, "yes", "no"),
        "score": np.clip((frame["decile_score"].to_numpy() - 0.5) / 10 + jitter, 0, 1),
        "race": frame["race"], "sex": frame["sex"]})
    return write(tmp_path_factory.mktemp("compas"), table, parts=6)


def test_a_folder_and_a_glob_of_partitions_give_the_audit_of_the_whole_file(compas):
    whole = run(audit(compas, "whole", "whole.parquet"))
    for name, path in (("folder", "parts"), ("glob", "parts/part-*.parquet")):
        results = run(audit(compas, name, path))
        assert results["data"]["partitions"] == 6
        assert results["data"]["rows"] == whole["data"]["rows"]
        assert results["data"]["groups"] == whole["data"]["groups"]
        found, auc = numeric_differences(whole["fairness"], results["fairness"])
        assert found == [] and max(auc) < 1e-3
        out = compas / "reports" / name
        assert results["outputs"] == {"counts": "counts.parquet", "report": "report.html"}
        assert not (out / "predictions.parquet").exists() and (out / "report.html").is_file()
        counts = pd.read_parquet(out / "counts.parquet")
        assert counts["rows"].sum() == whole["data"]["rows"]["test"]
        assert len(counts) < whole["data"]["rows"]["test"]


def test_predicted_labels_in_partitions_on_a_registry_data_set(tmp_path):
    # scikit-learn's diabetes data; a rule's decision as the prediction, favourable = "low".
    frame = diabetes_frame()
    table = pd.DataFrame({"outcome": np.where(frame["progression"] == 1, "high", "low"),
                          "decision": np.where(frame["bmi"] > frame["bmi"].median(), "flag",
                                               "pass"), "sex": frame["sex"]})
    write(tmp_path, table, parts=3)
    options = {"label": "outcome", "positive": "high", "sensitive": '["sex"]',
               "prediction": 'prediction = "decision"\npredicted_positive = ["flag"]',
               "extra": 'favourable = "low"'}
    whole = run(audit(tmp_path, "whole", "whole.parquet", **options))
    parts = run(audit(tmp_path, "parts", "parts", **options))
    found, auc = numeric_differences(whole["fairness"], parts["fairness"])
    assert found == [] and auc == []  # no scores, no AUC


def _bad_partition(folder: Path, case: str) -> tuple[str, str]:
    """A partitioned table with one bad file, the path to audit and the expected message."""
    table = pd.DataFrame({"label": ["yes", "no"] * 20, "score": np.linspace(0, 1, 40),
                          "race": ["a", "b"] * 20, "sex": ["f", "m", "m", "f"] * 10})
    write(folder, table, parts=3)
    bad = folder / "parts" / "part-1.parquet"
    broken = table.iloc[13:26].copy()
    if case == "missing column":
        broken.drop(columns="race").to_parquet(bad)
        return "parts", f"{bad}: no column 'race'"
    if case == "type drift":
        broken.assign(score=broken["score"].astype(str)).to_parquet(bad)
        return "parts", f"{bad}: column 'score' is large_string, but double in"
    if case == "score outside [0, 1]":
        broken.assign(score=broken["score"] + 2).to_parquet(bad)
        return "parts", f"{bad}: score column 'score' holds values outside [0, 1]"
    if case == "reserved name":
        broken.assign(_rows=1).to_parquet(bad)
        return "parts", f"{bad}: column '_rows' has a name twinaudit's count table uses"
    if case == "not parquet":
        bad.write_text("label,score\n")
        return "parts", f"{bad}: cannot be read as parquet"
    if case == "nothing matches":
        return "parts/none-*.parquet", "parts/none-*.parquet: no parquet files found"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing column", "type drift", "score outside [0, 1]",
                                  "reserved name", "not parquet", "nothing matches"])
def test_a_bad_partition_is_one_line_naming_it_and_nothing_is_written(tmp_path, case):
    path, expected = _bad_partition(tmp_path, case)
    with pytest.raises(TwinauditError) as raised:
        run(audit(tmp_path, "bad", path))
    assert expected in str(raised.value) and "\n" not in str(raised.value)
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(("extra", "expected"), [
    ('filters = [{column = "race", op = "==", value = "a"}]', "[data] filters need the rows"),
    ("bins = {race = 2}", "[data] bins need the whole column"),
])
def test_settings_that_need_the_rows_are_refused_for_partitions(tmp_path, extra, expected):
    _bad_partition(tmp_path, "nothing matches")  # a good table
    toml = audit(tmp_path, "refused", "parts", extra=extra)
    completed = subprocess.run([sys.executable, "-m", "twinaudit.cli", "run", str(toml),
                                "--quiet"], capture_output=True, text=True, timeout=120,
                               cwd=tmp_path)
    assert completed.returncode == 2 and len(completed.stderr.splitlines()) == 1
    assert expected in completed.stderr
    assert not (tmp_path / "reports").exists()


def test_a_folder_or_a_glob_is_partitioned_and_an_existing_file_is_not(tmp_path):
    from twinaudit.data.partitioned import is_partitioned, partition_files

    odd = tmp_path / "scores[2025].parquet"  # a real file whose name reads as a glob
    pd.DataFrame({"a": [1]}).to_parquet(odd)
    (tmp_path / "parts").mkdir()
    for name in ("b.parquet", "a.parquet", "notes.txt"):
        (tmp_path / "parts" / name).write_bytes(odd.read_bytes())
    assert not is_partitioned(odd)
    assert is_partitioned(tmp_path / "parts") and is_partitioned(tmp_path / "parts" / "*.parquet")
    assert [file.name for file in partition_files(tmp_path / "parts")] == ["a.parquet",
                                                                          "b.parquet"]
