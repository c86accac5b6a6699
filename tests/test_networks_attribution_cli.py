"""``twinaudit run`` on small subsets of digits and sentiment: the attribution section is
computed for image and text twins, checked against captum, and rendered in the report."""

import json

import pytest
from test_cli_networks import small_copy
from test_report import assert_well_formed
from typer.testing import CliRunner

from twinaudit.cli import app


@pytest.fixture(scope="module", params=["digits", "sentiment"])
def finished(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"attribution-{request.param}")
    result = CliRunner().invoke(app, ["run", str(small_copy(request.param, folder)), "--quiet",
                                      "--output-dir", str(folder / "out"),
                                      "--models-dir", str(folder / "models")])
    assert result.exit_code == 0, result.output + repr(result.exception)
    results = json.loads((folder / "out" / "results.json").read_text())
    return request.param, results, (folder / "out" / "report.html").read_text()


def test_image_and_text_twins_are_explained_and_checked_against_captum(finished):
    name, results, _ = finished
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


def test_report_renders_the_attribution_of_its_kind(finished):
    name, _, html = finished
    assert_well_formed(html)
    section = html[html.index('id="attribution"'):html.index('id="environment"')]
    if name == "digits":
        assert "Integrated Gradients per class" in section and section.count("<g transform") \
            == 4 * 10
    else:
        assert "Example sentences" in section and "pushing towards negative" in section
