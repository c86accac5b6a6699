"""``twinaudit run`` end to end on each shipped network audit, on small subsets.

The CLI app runs in this process (typer's runner) so TensorFlow and torch are imported once
for the four audits; the subprocess path is covered by test_cli.py.
"""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from twinaudit.cli import app

REPO = Path(__file__).resolve().parents[1]


def small_copy(name: str, folder: Path) -> Path:
    """The shipped audit on 300 training and 200 test rows, two seeds, two epochs."""
    text = (REPO / "audits" / f"{name}.toml").read_text()
    text = text.replace("[data]\n", "[data]\nmax_train_rows = 300\nmax_test_rows = 200\n", 1)
    text = re.sub(r"seeds = \[.*\]", "seeds = [0, 1]", text)
    text = re.sub(r"epochs = \d+", "epochs = 2", text)
    text = re.sub(r"n_resamples = \d+", "n_resamples = 50", text)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module", params=["simplenet", "digits", "sentiment", "autoencoder"])
def finished(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    result = CliRunner().invoke(app, ["run", str(small_copy(request.param, folder)), "--quiet",
                                      "--output-dir", str(folder / "out"),
                                      "--models-dir", str(folder / "models")])
    assert result.exit_code == 0, result.output + repr(result.exception)
    results = json.loads((folder / "out" / "results.json").read_text())
    return request.param, folder, results


def test_every_audit_writes_results_report_predictions_and_checkpoints(finished):
    name, folder, results = finished
    html = (folder / "out" / "report.html").read_text()
    assert "Twin parity" in html and "<svg" in html
    predictions = pd.read_parquet(folder / "out" / "predictions.parquet")
    assert list(predictions.columns[:7]) == ["row_id", "variant", "framework", "seed", "y_true",
                                             "score", "y_pred"]
    assert set(predictions["y_pred"]) <= {0, 1}
    assert {(t["framework"], t["seed"]) for t in results["twins"]} == {
        ("torch", 0), ("keras", 0), ("torch", 1), ("keras", 1)}
    for framework in ("torch", "keras"):
        assert any((folder / "models" / framework).glob("seed0.*"))
    kinds = {"simplenet": "mlp", "digits": "cnn", "sentiment": "lstm",
             "autoencoder": "autoencoder"}
    assert results["network"]["kind"] == kinds[name]


def test_every_audit_proves_parity(finished):
    name, _, results = finished
    parity = results["parity"]
    assert parity["step0"]["passed"]
    assert parity["step0"]["tolerance"] == (1e-4 if name == "sentiment" else 1e-5)
    # One step: 1e-6 where float32 allows (see test_networks.ONE_STEP_BOUND for the LSTM).
    assert parity["one_step"]["max_rel_param_diff"] <= (1e-4 if name == "sentiment" else 1e-6)


def test_each_audit_reports_what_its_task_means(finished):
    name, folder, results = finished
    fairness = results["fairness"]["twins"]["torch"]["0"]
    if name == "simplenet":
        assert set(fairness["group_sets"]["group"]["groups"]) == {"A", "B"}
        assert "reweighing" in results["mitigation"]
    elif name == "digits":
        assert "recall" in results["fairness"]["outcome"]
        groups = fairness["group_sets"]["digit"]["groups"]
        predictions = pd.read_parquet(folder / "out" / "predictions.parquet")
        rows = predictions[(predictions["framework"] == "torch") & (predictions["seed"] == 0)]
        recall = (rows["label"] == rows["predicted_label"]).groupby(rows["digit"]).mean()
        for digit, value in recall.items():
            assert groups[digit]["metrics"]["selection_rate"]["value"] == pytest.approx(value)
    elif name == "sentiment":
        assert set(fairness["group_sets"]["domain"]["groups"]) == {"amazon", "movie", "nyt",
                                                                    "tweets"}
        counterfactual = results["counterfactual"]["categories"]
        assert set(counterfactual) == {"gender", "nationality", "religion"}
        gap = counterfactual["gender"]["twins"]["keras"]["1"]["groups"]["female"]
        assert gap["ci"][0] <= gap["gap"] <= gap["ci"][1]
    else:
        assert "flag rate" in results["fairness"]["outcome"]
        assert results["twins"][0]["test_accuracy"] is None
        assert results["parity"]["reconstruction_error"]["by_framework"]["torch"]["n_seeds"] == 2
        assert len(results["anomaly"]["thresholds"]) == 4
