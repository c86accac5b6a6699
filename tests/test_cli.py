"""The command line end to end, on a small subset so it runs in seconds."""

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest

from twinaudit.results import SCHEMA_VERSION
from twinaudit.vocabulary import FRAMEWORKS

from helpers import write_small_audit

TWINAUDIT = [sys.executable, "-m", "twinaudit.cli"]


def twinaudit(*arguments, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*TWINAUDIT, *map(str, arguments)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    audit = write_small_audit(folder)
    completed = twinaudit("run", audit, "--quiet", cwd=folder)
    return folder, completed


@pytest.mark.slow
def test_run_writes_results_predictions_report_and_checkpoints(finished_run):
    folder, completed = finished_run
    assert completed.returncode == 0, completed.stderr
    report = Path(completed.stdout.strip().splitlines()[-1])
    assert (folder / report).is_file() and report.name == "report.html"
    output = folder / "reports" / "small"
    results = json.loads((output / "results.json").read_text())
    assert results["schema_version"] == SCHEMA_VERSION
    assert results["kind"] == "twinaudit.results"
    assert {(t["framework"], t["seed"]) for t in results["twins"]} == {
        ("torch", 0), ("keras", 0), ("torch", 1), ("keras", 1)}
    parity = results["parity"]
    assert parity["verdict"]["passed"] and parity["proof"]["passed"]
    assert "parity: PASS: identical: float64 agreement within" not in completed.stderr  # quiet
    assert len(parity["per_seed"][0]["divergence"]) == 2  # one point per epoch
    assert parity["accuracy"]["verdict"] in ("equivalent", "undecided")
    environment = results["environment"]
    assert environment["keras_backend"] == "tensorflow"
    assert environment["packages"]["torch"].startswith("2.13.0")
    predictions = pd.read_parquet(output / "predictions.parquet")
    assert list(predictions.columns[:7]) == ["row_id", "variant", "framework", "seed", "y_true",
                                             "score", "y_pred"]
    assert {"sex", "race"} <= set(predictions.columns)
    assert len(predictions[predictions['variant'] == 'baseline']) == 4 * 800
    for framework, suffix in (("torch", ".pt"), ("keras", ".keras")):
        assert (folder / "models" / "small" / framework / f"seed0{suffix}").is_file()
    html = report.read_text() if report.is_absolute() else (folder / report).read_text()
    assert "Twin parity" in html and "<svg" in html


@pytest.mark.slow
def test_run_audits_fairness_and_mitigation_consistently_with_the_predictions(finished_run):
    folder, _ = finished_run
    output = folder / "reports" / "small"
    results = json.loads((output / "results.json").read_text())
    predictions = pd.read_parquet(output / "predictions.parquet")
    assert set(predictions["variant"]) == {"baseline", "reweighed", "threshold_optimizer"}
    # Recompute one per-group figure from the predictions file with pandas.
    for variant, section in (("baseline", results["fairness"]),
                             ("reweighed", results["mitigation"]["reweighing"]["fairness"])):
        rows = predictions[(predictions["variant"] == variant)
                           & (predictions["framework"] == "keras") & (predictions["seed"] == 1)]
        expected = rows.groupby("sex")["y_pred"].mean()
        groups = section["twins"]["keras"]["1"]["group_sets"]["sex"]["groups"]
        for group, rate in expected.items():
            assert groups[group]["metrics"]["selection_rate"]["value"] == pytest.approx(rate)
    assert set(results["fairness"]["twins"]) == set(FRAMEWORKS)
    assert set(results["fairness"]["summary"]["group_sets"]) == {"sex", "race", "sex×race"}
    reweighing = results["mitigation"]["reweighing"]
    assert reweighing["groups"] == ["sex"]
    # The identical-settings proof holds for the weighted training too.
    assert reweighing["parity"]["proof"]["passed"] and reweighing["parity"]["verdict"]["passed"]
    change = reweighing["before_after"]["torch"]["accuracy"]
    assert change["change"] == pytest.approx(change["after"]["mean"] - change["before"]["mean"])
    threshold = results["mitigation"]["threshold_optimizer"]
    assert threshold["constraints"] == "demographic_parity"
    assert "sex" in threshold["before_after"]["keras"]["group_sets"]


@pytest.mark.slow
def test_run_explains_both_twins_and_checks_itself_against_captum(finished_run):
    folder, _ = finished_run
    attribution = json.loads((folder / "reports/small/results.json").read_text())["attribution"]
    integrated = attribution["methods"]["integrated_gradients"]
    assert set(integrated["twins"]) == {"torch/0", "keras/0", "torch/1", "keras/1"}
    assert integrated["captum_check"]["max_abs_difference"] <= 1e-5
    # Twins with the same seed share their weights' history: they explain alike.
    for row in integrated["agreement"]["frameworks"]:
        assert row["spearman"] > 0.9
    shares = integrated["twins"]["torch/0"]["fairness"]["share"]
    assert 0 < shares["sensitive"] <= shares["sensitive_or_proxy"] <= 1
    assert attribution["methods"]["deeplift"]["twins"]["keras/0"]["status"] == "not_applicable"


@pytest.mark.slow
def test_two_runs_give_identical_numbers(finished_run, tmp_path):
    folder, _ = finished_run
    audit = write_small_audit(tmp_path)
    assert twinaudit("run", audit, "--quiet", cwd=tmp_path).returncode == 0
    first = json.loads((folder / "reports/small/results.json").read_text())
    second = json.loads((tmp_path / "reports/small/results.json").read_text())

    def without_timings(results):
        for twin in results["twins"]:
            twin.pop("train_seconds")
            twin.pop("checkpoint")
            for epoch in twin["history"]:
                epoch.pop("seconds")
        for section in results["mitigation"].values():
            for twin in section.get("twins", []):
                twin.pop("train_seconds")
        for method in results["attribution"]["methods"].values():
            for twin in method["twins"].values():
                twin.pop("seconds", None)
        keys = ("twins", "parity", "data", "network", "fairness", "mitigation", "attribution")
        return {key: results[key] for key in keys}

    assert without_timings(first) == without_timings(second)
    first_predictions = pd.read_parquet(folder / "reports/small/predictions.parquet")
    second_predictions = pd.read_parquet(tmp_path / "reports/small/predictions.parquet")
    pd.testing.assert_frame_equal(first_predictions, second_predictions)


@pytest.mark.slow
def test_report_re_renders_from_results(finished_run, tmp_path):
    folder, _ = finished_run
    output = tmp_path / "again.html"
    completed = twinaudit("report", folder / "reports/small/results.json", "-o", output,
                          cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "twinaudit report: small" in output.read_text()


BAD_AUDIT = '[audit]\nname = "bad"\n[data]\n'


BAD_INPUTS = [
    (None, "not found"),
    (lambda p: p.write_text("[audit\n"), "not valid TOML"),
    (lambda p: p.write_text(BAD_AUDIT + 'dataset = "mnist"\n'), "[data].dataset"),
    (lambda p: p.write_text('[audit]\nname = "bad"\n[network]\nkind = "rnn"\n'
                            '[data]\ndataset = "adult"\n'), "[network].kind"),
    (lambda p: p.write_text(BAD_AUDIT + 'dataset = "csv"\npath = "missing.csv"\n'
                            'label = "y"\npositive = "1"\n'), "missing.csv: data file not found"),
    (lambda p: (p.with_name("empty.csv").write_text(""),
                p.write_text(BAD_AUDIT + 'dataset = "csv"\npath = "empty.csv"\nlabel = "y"\n'
                             'positive = "1"\n')), "empty.csv: the file is empty"),
    (lambda p: (p.with_name("d.csv").write_text("a,sex,y\n1,F,0\n2,M,0\n3,F,2\n"),
                p.write_text(BAD_AUDIT + 'dataset = "csv"\npath = "d.csv"\nlabel = "y"\n'
                             'positive = "1"\nsensitive_features = ["sex"]\n')),
     "label column 'y' must hold at least two values"),
    (lambda p: (p.with_name("d.csv").write_text("a,sex,y\n1,F,0\n2,M,1\n"),
                p.write_text(BAD_AUDIT + 'dataset = "csv"\npath = "d.csv"\nlabel = "y"\n'
                             'positive = "1"\nsensitive_features = ["race"]\n')),
     "no sensitive column 'race'"),
]
# Each case starts a fresh interpreter (about 2 s): the fast loop keeps one spec error and one
# data error, the rest run with the slow tests.
FAST_BAD_INPUTS = ("not found", "label column 'y' must hold exactly two values")


@pytest.mark.parametrize("write, expected", [
    pytest.param(write, expected, marks=() if expected in FAST_BAD_INPUTS else pytest.mark.slow)
    for write, expected in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, write, expected):
    audit = tmp_path / "audit.toml"
    if write is not None:
        write(audit)
    completed = twinaudit("run", audit, "--quiet", cwd=tmp_path)
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("twinaudit: ") and expected in lines[0]
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "reports").exists() and not (tmp_path / "models").exists()


@pytest.mark.slow
def test_gate_on_a_real_run_passes_itself_and_catches_an_accuracy_regression(finished_run,
                                                                            tmp_path):
    folder, _ = finished_run
    results = folder / "reports/small/results.json"
    junit = tmp_path / "gate.xml"
    same = twinaudit("gate", results, "--baseline", results, "--junit", junit, cwd=tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "gate PASSED" in same.stdout
    assert ElementTree.parse(junit).getroot().tag == "testsuite"

    better = json.loads(results.read_text())
    better["parity"]["accuracy"]["by_framework"]["torch"]["mean"] += 0.05
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(better))
    regressed = twinaudit("gate", results, "--baseline", baseline, cwd=tmp_path)
    assert regressed.returncode == 1
    assert "FAIL" in regressed.stdout and "accuracy.no_drop" in regressed.stdout


@pytest.mark.slow
@pytest.mark.parametrize("breakage, expected", [
    ("rules", "not valid TOML"),
    ("schema", "schema_version"),
    ("unknown path", "unknown path 'parit.step0'"),
])
def test_gate_input_errors_exit_2_with_one_line(finished_run, tmp_path, breakage, expected):
    folder, _ = finished_run
    results = folder / "reports/small/results.json"
    arguments = ["gate", results, "--baseline", results]
    if breakage == "rules":
        (tmp_path / "rules.toml").write_text("[[rule]\nname=")
        arguments += ["--rules", tmp_path / "rules.toml"]
    elif breakage == "unknown path":
        (tmp_path / "rules.toml").write_text('[[rule]]\nname = "x"\npath = "parit.step0"\n'
                                             "max = 1\n")
        arguments += ["--rules", tmp_path / "rules.toml"]
    else:
        other = json.loads(results.read_text())
        other["schema_version"] = 99
        (tmp_path / "other.json").write_text(json.dumps(other))
        arguments[1] = tmp_path / "other.json"
    completed = twinaudit(*arguments, cwd=tmp_path)
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in completed.stderr


def run_main(monkeypatch, capsys, *arguments) -> tuple[int, str]:
    """The console entry point in this process: (exit status, stderr)."""
    from twinaudit import cli

    monkeypatch.setattr(sys, "argv", ["twinaudit", *arguments])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    return stopped.value.code, capsys.readouterr().err


BASELINE = Path(__file__).resolve().parents[1] / "reports" / "baseline" / "adult.json"


def test_an_internal_error_is_one_line_exit_70_with_the_traceback_in_a_crash_file(
        monkeypatch, capsys, tmp_path):
    import twinaudit.report

    def broken(results):
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr(twinaudit.report, "render_report", broken)
    status, stderr = run_main(monkeypatch, capsys, "report", str(BASELINE), "-o",
                              str(tmp_path / "r.html"))
    assert status == 70
    assert stderr.count("\n") == 1
    assert stderr.startswith("twinaudit: internal error: KeyError: 'a bug, not bad input'; "
                             "details in ")
    crash = Path(stderr.strip().rsplit("details in ", 1)[1])
    assert "Traceback" in crash.read_text() and "broken" in crash.read_text()
    crash.unlink()


@pytest.mark.parametrize("arguments, expected", [
    (("run", "--bogus"), "twinaudit: No such option: --bogus (see 'twinaudit run --help')\n"),
    (("gate",), "twinaudit: Missing argument 'results' (see 'twinaudit gate --help')\n"),
    (("nope",), "twinaudit: No such command 'nope' (see 'twinaudit --help')\n"),
])
def test_a_usage_error_is_one_line_exit_2(monkeypatch, capsys, arguments, expected):
    assert run_main(monkeypatch, capsys, *arguments) == (2, expected)


def test_help_still_exits_0(monkeypatch, capsys):
    from twinaudit import cli

    monkeypatch.setattr(sys, "argv", ["twinaudit", "run", "--help"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 0 and "Usage: twinaudit run" in capsys.readouterr().out
