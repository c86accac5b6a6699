"""``twinaudit init``: a starter audit definition from a user's table, through the command line."""

import contextlib
import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twinaudit.spec import load_spec
from twinaudit.vocabulary import FRAMEWORKS

ROWS = 600


def twinaudit(*arguments, cwd: Path) -> subprocess.CompletedProcess:
    """The command line, in this process (a new interpreter per call costs a second each):
    the same entry point, arguments, folder, exit status and output streams."""
    from twinaudit import cli

    out, err = io.StringIO(), io.StringIO()
    folder, argv = os.getcwd(), sys.argv
    try:
        os.chdir(cwd)
        sys.argv = ["twinaudit", *map(str, arguments)]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
                status = 0
            except SystemExit as stop:
                status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    finally:
        os.chdir(folder)
        sys.argv = argv
    return subprocess.CompletedProcess(arguments, status, out.getvalue(), err.getvalue())


def loans_table(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """An ID column, a leak, a numeric sensitive column, a 150-level column, honest inputs."""
    random = np.random.default_rng(seed)
    defaulted = random.choice(["yes", "no"], rows, p=[0.3, 0.7])
    income = random.lognormal(10, 0.6, rows).round(2)
    return pd.DataFrame({
        "case number": [f"L-{i:06d}" for i in random.permutation(rows)],
        "age": random.integers(18, 80, rows),
        "income": income,
        "gender": random.choice(["female", "male"], rows),
        "paid_back": np.where(defaulted == "yes", "N", "Y"),
        "branch": [f"b{i % 150}" for i in random.permutation(rows)],
        "defaulted": defaulted,
    })


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "data").mkdir()
    loans_table().to_csv(tmp_path / "data" / "loans 2024.csv", index=False)
    return tmp_path


def test_init_writes_a_commented_starter_that_loads(workspace):
    completed = twinaudit("init", "data/loans 2024.csv", "--label", "defaulted",
                          "--sensitive", "gender", "--sensitive", "age", cwd=workspace)
    assert completed.returncode == 0, completed.stderr
    path = workspace / completed.stdout.strip().splitlines()[-1]
    assert path == workspace / "audits" / "loans_2024.toml"
    assert "twinaudit run audits/loans_2024.toml" in completed.stderr
    assert "positive: 'yes', the minority label value" in completed.stderr
    for folder in ("audits", "models", "reports"):
        assert (workspace / folder).is_dir()

    spec = load_spec(path)
    data = spec.data
    assert spec.audit.name == "loans_2024" and data.dataset == "csv"
    assert spec.resolve(data.path) .resolve() == (workspace / "data" / "loans 2024.csv")
    assert data.label == "defaulted" and data.positive == "yes"
    assert data.sensitive_features == ["gender", "age"]
    assert data.drop_columns == ["case number", "paid_back"]
    quartiles = np.quantile(loans_table()["age"], [0.25, 0.5, 0.75])
    assert set(data.bins) == {"age"} and np.allclose(data.bins["age"], quartiles, rtol=0.05)
    assert spec.output_dir == workspace / "reports" / "loans_2024"

    text = path.read_text()
    assert '"case number",  # ID-like' in text
    assert '"paid_back",  # leak: alone predicts the label with ROC AUC 1.000' in text
    assert "many_levels: categorical column 'branch' has 150 levels" in text
    assert "150 model inputs" in text
    assert "Chosen by twinaudit init: the minority label value" in text
    assert "#   income       numeric" in text and "categorical, 150 levels" in text
    assert "age          numeric, " in text and "(sensitive)" in text
    for key in ("# favourable = ", "# filters = ", "# features = ", "# threshold = ",
                "# min_group_size = ", "# owner = ", "# licence = ", "# intended_use = "):
        assert key in text
    # Uncommented, every suggested line still loads (features is instead of drop_columns).
    uncommented = "\n".join(line.removeprefix("# ") if line.startswith(
        ("# description", "# favourable", "# threshold", "# min_group_size", "# owner",
         "# licence", "# intended_use", "# filters")) else line for line in text.splitlines())
    path.write_text(uncommented)
    spec = load_spec(path)
    assert spec.data.favourable == "no" and spec.data.filters[0]["column"] == "branch"
    assert spec.model_card.owner and spec.fairness.min_group_size == 30
    keep_list = [line for line in text.splitlines() if line.startswith("# features = ")]
    assert tomllib.loads(keep_list[0].removeprefix("# "))["features"] == [
        "age", "income", "gender"]


def test_a_given_positive_and_name_are_used(workspace):
    completed = twinaudit("init", "data/loans 2024.csv", "--label", "defaulted", "--positive",
                          "no", "--sensitive", "gender", "--name", "credit", cwd=workspace)
    assert completed.returncode == 0, completed.stderr
    assert "minority" not in completed.stderr
    spec = load_spec(workspace / "audits" / "credit.toml")
    assert spec.data.positive == "no" and spec.data.bins == {}


def test_sensitive_features_are_recognised_by_name_when_none_is_given(workspace):
    completed = twinaudit("init", "data/loans 2024.csv", "--label", "defaulted", cwd=workspace)
    assert completed.returncode == 0, completed.stderr
    assert "recognised by name" in completed.stderr
    spec = load_spec(workspace / "audits" / "loans_2024.toml")
    assert spec.data.sensitive_features == ["age", "gender"]


def test_an_existing_toml_is_kept_unless_forced(workspace):
    arguments = ("init", "data/loans 2024.csv", "--label", "defaulted", "--sensitive", "gender")
    assert twinaudit(*arguments, cwd=workspace).returncode == 0
    path = workspace / "audits" / "loans_2024.toml"
    path.write_text("# mine\n")
    refused = twinaudit(*arguments, cwd=workspace)
    assert refused.returncode == 2 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert "loans_2024.toml: already exists" in line and "--force" in line
    assert path.read_text() == "# mine\n"
    forced = twinaudit(*arguments, "--force", cwd=workspace)
    assert forced.returncode == 0, forced.stderr
    assert load_spec(path).data.label == "defaulted"


@pytest.mark.parametrize(("arguments", "expected"), [
    (("data/missing.csv", "--label", "defaulted", "--sensitive", "gender"),
     "data/missing.csv: data file not found"),
    (("data/loans 2024.csv", "--label", "outcome", "--sensitive", "gender"),
     "data/loans 2024.csv: no column 'outcome'"),
    (("data/one label.csv", "--label", "defaulted", "--sensitive", "gender"),
     "data/one label.csv: label column 'defaulted' holds one value only"),
    (("data/loans 2024.csv", "--label", "defaulted", "--sensitive", "religion"),
     "data/loans 2024.csv: no sensitive column 'religion'"),
    (("data/loans 2024.csv", "--label", "defaulted", "--positive", "maybe", "--sensitive",
      "gender"), "data/loans 2024.csv: label column 'defaulted' has no value 'maybe'"),
    (("data/no sensitive.csv", "--label", "defaulted"),
     "data/no sensitive.csv: no sensitive column given and none recognised by name"),
    (("data/loans 2024.csv", "--label", "defaulted", "--sensitive", "gender", "--name",
      "../escape"), "--name '../escape': expected a plain folder and file name"),
])
def test_errors_are_one_line_exit_2_and_write_nothing(workspace, arguments, expected):
    table = loans_table()
    table.assign(defaulted="no").to_csv(workspace / "data" / "one label.csv", index=False)
    table[["income", "defaulted"]].to_csv(workspace / "data" / "no sensitive.csv", index=False)
    completed = twinaudit("init", *arguments, cwd=workspace)
    assert completed.returncode == 2 and completed.stdout == ""
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith("twinaudit: ") and expected in line
    assert sorted(path.name for path in workspace.iterdir()) == ["data"]


def test_init_imports_no_framework(workspace):
    statement = (
        "import sys\n"
        "from twinaudit import cli\n"
        "sys.argv = ['twinaudit', 'init', 'data/loans 2024.csv', '--label', 'defaulted',"
        " '--sensitive', 'gender']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        f"print('LOADED:' + ','.join(sorted(m for m in {('tensorflow', *FRAMEWORKS)!r} "
        "if m in sys.modules)))\n")
    completed = subprocess.run([sys.executable, "-c", statement], cwd=workspace,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    (line,) = [line for line in completed.stdout.splitlines() if line.startswith("LOADED:")]
    assert line == "LOADED:"
    assert (workspace / "audits" / "loans_2024.toml").is_file()


def test_odd_column_names_are_quoted_and_kept_out_of_comments(tmp_path):
    table = loans_table(rows=200).rename(columns={"age": 'a"ge\tx', "gender": "gen\nder"})
    table.to_parquet(tmp_path / "odd.parquet")
    completed = twinaudit("init", "odd.parquet", "--label", "defaulted", "--sensitive",
                          'a"ge\tx', "--sensitive", "gen\nder", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    spec = load_spec(tmp_path / "audits" / "odd.toml")
    assert spec.data.sensitive_features == ['a"ge\tx', "gen\nder"]
    assert list(spec.data.bins) == ['a"ge\tx']
    assert spec.data.path == "../odd.parquet"
