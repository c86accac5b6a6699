"""The mitigation stage end to end: every method on a small Adult audit, reported the same
way for both frameworks, its re-sampled cells as the definition says, its retrained twins
proven identical, and the report's ranking and charts drawn from it."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.data import load_dataset
from twinaudit.results import validate_results
from twinaudit.spec import load_spec
from twinaudit.vocabulary import FRAMEWORKS, MITIGATIONS

from helpers import write_small_audit

pytestmark = pytest.mark.slow

EVERY_METHOD = f"""
[audits]
attribution = false

[mitigation]
methods = {list(MITIGATIONS)!r}
reweigh_on = ["sex"]
reductions_max_iter = 2
grid_size = 3
""".replace("'", '"')


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from twinaudit.pipeline import run_audit

    folder = tmp_path_factory.mktemp("mitigations")
    path = write_small_audit(folder, train_rows=1200, test_rows=600)
    path.write_text(path.read_text().replace("[attribution]", EVERY_METHOD + "\n[attribution]"))
    spec = load_spec(path)
    outcome = run_audit(spec, output_dir=folder / "out", models_dir=folder / "models")
    return spec, outcome.results, folder


def test_every_method_is_reported_for_both_frameworks(run):
    spec, results, folder = run
    mitigation = results["mitigation"]
    assert list(mitigation) == list(MITIGATIONS)
    for method, section in mitigation.items():
        assert set(section["before_after"]) == set(FRAMEWORKS), method
        assert set(section["fairness"]["twins"]) == set(FRAMEWORKS), method
        paired = section["before_after"]["torch"]["accuracy"]["paired"]
        assert paired["n_seeds"] == 2 and paired["reading"] in ("higher", "lower",
                                                                 "no clear change")
    predictions = pd.read_parquet(folder / "out" / "predictions.parquet")
    assert set(predictions["variant"]) == {"baseline", "reweighed", "uniform_resampling",
                                           "preferential_resampling", "adversarial",
                                           "exponentiated_gradient", "grid_search",
                                           "threshold_optimizer"}
    counts = predictions.groupby(["variant", "framework"]).size()
    assert counts.nunique() == 1  # every variant × framework: every test row of both seeds
    validate_results(results, source="mitigations")


def test_the_retrained_twins_pass_the_twin_proof_on_their_new_data(run):
    _, results, _ = run
    for method in ("reweighing", "uniform_resampling", "preferential_resampling"):
        parity = results["mitigation"][method]["parity"]
        assert parity["proof"]["passed"], (method, parity["proof"]["text"])
        assert parity["verdict"]["passed"], (method, parity["verdict"]["text"])


def test_the_adversarial_twins_are_proven_identical_in_the_run(run):
    _, results, _ = run
    parity = results["mitigation"]["adversarial"]["parity"]
    assert parity["proof"]["passed"], parity["proof"]["text"]
    assert parity["prediction_agreement"]["min"] > 0.99
    assert len(results["mitigation"]["adversarial"]["twins"]) == 4


def test_the_resampled_cells_are_the_ones_independence_asks_for(run):
    spec, results, _ = run
    train = load_dataset(spec).train
    # Independently of the code under test: each sex keeps its size, and its positives are
    # its size times the overall base rate, rounded.
    frame = pd.DataFrame({"sex": train.sensitive_features["sex"].to_numpy(), "y": train.y})
    sizes = frame.groupby("sex").size()
    positives = np.rint(sizes * frame["y"].mean()).astype(int)
    for method in ("uniform_resampling", "preferential_resampling"):
        cells = {(c["group"], c["label"]): c for c in results["mitigation"][method]["cells"]}
        for sex, size in sizes.items():
            assert cells[(sex, 1)]["after"] == positives[sex]
            assert cells[(sex, 0)]["after"] == size - positives[sex]
            assert cells[(sex, 1)]["before"] == frame[(frame["sex"] == sex)]["y"].sum()
        rows = results["mitigation"][method]["rows"]
        assert rows["total"] == len(frame)


def test_the_reductions_say_what_they_trained(run):
    _, results, _ = run
    for method in ("exponentiated_gradient", "grid_search"):
        section = results["mitigation"][method]
        assert len(section["twins"]) == 4
        for twin in section["twins"]:
            assert twin["n_trained"] >= 1 and twin["n_used"] >= 1
        assert 0.5 <= section["prediction_agreement"]["min"] <= 1
    grid = results["mitigation"]["grid_search"]["twins"]
    assert all(t["n_trained"] + t["n_constant"] == 3 for t in grid)


def test_the_report_ranks_and_charts_every_method(run):
    _, _, folder = run
    html = (folder / "out" / "report.html").read_text()
    section = html[html.index('id="mitigation"'):]
    section = section[:section.index("</section>")]
    assert "Ranking by demographic parity difference (sex)" in section
    assert "Pareto front" in section
    for method in ("exponentiated gradient", "preferential resampling", "grid search"):
        assert method in section
