"""The pipeline end to end: ``twinaudit run`` on each shipped network audit, on small subsets
(results, report, predictions, checkpoints, parity, what each task's fairness outcome means,
and the attribution section of the image and text twins, checked against captum and
rendered), and how it picks the attribution audit of a network.

The CLI app runs in this process (typer's runner) so TensorFlow and torch are imported once
for the four audits; the subprocess path is covered by test_cli.py.
"""

import dataclasses
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from twinaudit.cli import app
from twinaudit.families import family_of
from twinaudit.pipeline import run_attribution
from twinaudit.results import validate_results
from twinaudit.vocabulary import FRAMEWORKS

from helpers import attribution_case, small_copy
from report_helpers import assert_well_formed


@pytest.fixture(scope="module", params=["simplenet", "digits", "sentiment", "autoencoder"])
def finished(request, tmp_path_factory):
    """One ``twinaudit run`` of a shipped audit (the attribution tests ask for digits and
    sentiment only): its name, its folder (``out/``, ``models/``) and its results."""
    folder = tmp_path_factory.mktemp(request.param)
    result = CliRunner().invoke(app, ["run", str(small_copy(request.param, folder)), "--quiet",
                                      "--output-dir", str(folder / "out"),
                                      "--models-dir", str(folder / "models")])
    assert result.exit_code == 0, result.output + repr(result.exception)
    results = json.loads((folder / "out" / "results.json").read_text())
    return request.param, folder, results


# -- every network audit ---------------------------------------------------------------------


@pytest.mark.slow
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
    for framework in FRAMEWORKS:
        assert any((folder / "models" / framework).glob("seed0.*"))
    kinds = {"simplenet": "mlp", "digits": "cnn", "sentiment": "lstm",
             "autoencoder": "autoencoder"}
    assert results["network"]["kind"] == kinds[name]


@pytest.mark.slow
def test_every_audit_proves_parity(finished):
    name, _, results = finished
    parity = results["parity"]
    assert parity["proof"]["passed"], parity["proof"]["text"]
    assert parity["verdict"]["passed"], parity["verdict"]["text"]
    assert all(stage["max"] <= 1e-9 for stage in parity["proof"]["exact"].values())
    # Every layout a run writes (images, text, reconstructions) is one the reader accepts.
    validate_results(results, source=name)


@pytest.mark.slow
def test_each_audit_reports_what_its_task_means(finished):
    name, folder, results = finished
    fairness = results["fairness"]["twins"]["torch"]["0"]
    if name == "simplenet":
        assert set(fairness["group_sets"]["group"]["groups"]) == {"A", "B"}
        assert list(results["mitigation"]) == ["reweighing", "uniform_resampling",
                                               "preferential_resampling", "threshold_optimizer"]
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
        # The LSTM twins reweighed by source domain: the weighted training proven identical.
        reweighed = results["mitigation"]["reweighing"]
        assert reweighed["groups"] == ["domain"] and reweighed["parity"]["proof"]["passed"]
    else:
        assert "flag rate" in results["fairness"]["outcome"]
        assert results["twins"][0]["test_accuracy"] is None
        assert results["parity"]["reconstruction_error"]["by_framework"]["torch"]["n_seeds"] == 2
        assert len(results["anomaly"]["thresholds"]) == 4
        # Reweighed by race without a label: group balance, its twins proven identical.
        reweighed = results["mitigation"]["reweighing"]
        assert reweighed["scheme"].startswith("group balance")
        assert reweighed["parity"]["proof"]["passed"], reweighed["parity"]["proof"]["text"]


# -- the attribution section of image and text twins ----------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("finished", ["digits", "sentiment"], indirect=True)
def test_image_and_text_twins_are_explained_and_checked_against_captum(finished):
    name, _, results = finished
    attribution = results["attribution"]
    assert attribution["kind"] == {"digits": "image", "sentiment": "text"}[name]
    ig = attribution["methods"]["integrated_gradients"]
    assert set(ig["twins"]) == {"torch/0", "keras/0", "torch/1", "keras/1"}
    assert ig["captum_check"]["max_abs_difference"] <= 1e-5
    # Twins of one seed start from the same weights and take the same steps: they explain
    # alike, far closer than seed noise.
    figure = "heat_map_pearson_min" if name == "digits" else "cosine_p5"
    assert ig["agreement"]["summary"]["frameworks"][figure] > 0.99
    assert all(not twin["completeness"]["flagged"] for twin in ig["twins"].values())


@pytest.mark.slow
@pytest.mark.parametrize("finished", ["digits", "sentiment"], indirect=True)
def test_report_renders_the_attribution_of_its_kind(finished):
    name, folder, _ = finished
    html = (folder / "out" / "report.html").read_text()
    assert_well_formed(html)
    section = html[html.index('id="attribution"'):html.index('id="environment"')]
    if name == "digits":
        assert "Integrated Gradients per class" in section and section.count("<g transform") \
            == 4 * 10
    else:
        assert "Example sentences" in section and "pushing towards negative" in section


# -- choosing the attribution audit ----------------------------------------------------------


def test_run_attribution_dispatches_by_network(digits, sentiment):
    spec, dataset, network, twins = digits
    spec = dataclasses.replace(spec, attribution=dataclasses.replace(spec.attribution,
                                                                     n_rows=20))
    assert run_attribution(spec, dataset, twins, family_of(network.kind))["kind"] == "image"
    spec, dataset, network, twins = sentiment
    spec = dataclasses.replace(spec, attribution=dataclasses.replace(spec.attribution,
                                                                     n_rows=20))
    assert run_attribution(spec, dataset, twins, family_of(network.kind))["kind"] == "text"
    autoencoder_spec, autoencoder_data, autoencoder = attribution_case("autoencoder",
                                                                      test_rows=20)
    result = run_attribution(autoencoder_spec, autoencoder_data, {},
                             family_of(autoencoder.kind))
    assert result["status"] == "not_applicable" and "reconstruction" in result["reason"]
