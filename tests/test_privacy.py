"""The privacy stage end to end on a small Adult audit: the schema, balanced candidates, each
reported AUC recomputed by scikit-learn from the saved twins, LiRA's shadows served by the
twin cache on a rerun, the DP-SGD twins' budget, proof, predictions and per-group cost, the
default gate's privacy rules, and the report's section."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from twinaudit.data import load_dataset
from twinaudit.frameworks import load_twin
from twinaudit.gate import Verdict, evaluate, load_rules
from twinaudit.privacy.membership import candidate_rows, loss_scores
from twinaudit.results import validate_results
from twinaudit.spec import load_spec
from twinaudit.vocabulary import FRAMEWORKS

from helpers import without_run_specifics, write_small_audit

pytestmark = pytest.mark.slow

PRIVACY = """
[audits]
attribution = false
mitigation = false
privacy = true

[privacy]
attacks = ["loss_threshold", "lira"]
shadows = 2
epsilons = [2]
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from twinaudit.pipeline import run_audit

    folder = tmp_path_factory.mktemp("privacy")
    path = write_small_audit(folder, train_rows=1200, test_rows=500)
    path.write_text(path.read_text().replace("[attribution]", PRIVACY + "\n[attribution]"))
    spec = load_spec(path)
    first = run_audit(spec, output_dir=folder / "out", models_dir=folder / "models")
    second = run_audit(spec, output_dir=folder / "again", models_dir=folder / "models")
    return spec, first, second, folder


def test_results_follow_the_schema_and_the_candidates_are_balanced(run):
    spec, first, _, _ = run
    validate_results(first.results, source="results.json")
    candidates = first.results["privacy"]["candidates"]
    assert candidates["members"] == candidates["non_members"] == 500  # the test split's size


def test_each_reported_auc_is_scikit_learns_on_the_saved_twin(run):
    spec, first, _, folder = run
    dataset = load_dataset(spec)
    rows = candidate_rows(len(dataset.train.y), len(dataset.test.y), max_rows=0,
                          random_state=spec.privacy.random_state)
    X = np.concatenate([dataset.train.X[rows.members], dataset.test.X[rows.non_members]])
    y = np.concatenate([dataset.train.y[rows.members], dataset.test.y[rows.non_members]])
    checkpoints = {(t["framework"], t["seed"]): t["checkpoint"] for t in first.results["twins"]}
    reported = first.results["privacy"]["attacks"]["loss_threshold"]["twins"]
    assert len(reported) == len(FRAMEWORKS) * len(spec.training.seeds)
    for entry in reported:
        twin = load_twin(folder / checkpoints[(entry["framework"], entry["seed"])])
        assert entry["overall"]["auc"] == pytest.approx(
            roc_auc_score(rows.is_member, loss_scores(twin, X, y)), abs=1e-9)


def test_lira_shadows_come_from_the_twin_cache_on_a_rerun(run):
    _, first, second, _ = run
    lira = first.results["privacy"]["attacks"]["lira"]
    assert lira["shadows"] == 2 and set(lira["shadow_cache"]) == {"miss"}
    again = second.results["privacy"]["attacks"]["lira"]
    assert set(again["shadow_cache"]) == {"hit"}
    assert without_run_specifics(again, ("shadow_cache",)) == without_run_specifics(
        lira, ("shadow_cache",))


def test_dp_sgd_twins_spend_their_budget_are_proven_and_predicted(run):
    spec, first, _, _ = run
    (budget,) = first.results["privacy"]["dp_sgd"]["budgets"]
    assert budget["target_epsilon"] == 2.0 and budget["epsilon"]["rdp"] <= 2.0
    assert budget["epsilon"]["pld"] <= budget["epsilon"]["rdp"]
    assert budget["parity"]["proof"]["passed"]
    assert {t["epochs_run"] for t in budget["twins"]} == {spec.training.epochs}
    predictions = pd.read_parquet(first.predictions_path)
    dp = predictions[predictions["variant"] == "dp_sgd_eps2"]
    assert len(dp) == len(FRAMEWORKS) * len(spec.training.seeds) * 500
    sex = budget["group_accuracy"]["torch"]["sex"]
    assert {g["group"] for g in sex["groups"]} == {"Female", "Male"}
    assert sex["smallest_vs_largest"]["smallest"] == "Female"
    # A group's "before" is the baseline twins' accuracy on that group's test rows.
    base = predictions[(predictions["variant"] == "baseline")
                       & (predictions["framework"] == "torch") & (predictions["sex"] == "Male")]
    male = next(g for g in sex["groups"] if g["group"] == "Male")
    assert male["before"] == pytest.approx((base["y_pred"] == base["y_true"]).mean())
    # The attack on the DP twins, both frameworks compared seed by seed.
    assert budget["attack"]["by_framework"]["paired"]["auc"]["n_seeds"] == 2


def test_the_default_gate_judges_the_privacy_rules(run):
    _, first, _, _ = run
    report = evaluate(first.results, first.results, load_rules())
    privacy = [check for check in report.checks if check.rule.startswith("privacy.")
               or check.rule == "parity.dp_sgd_twins"]
    assert {check.rule for check in privacy} == {
        "privacy.epsilon_at_most_8", "privacy.lira_auc_at_most_0_6", "parity.dp_sgd_twins"}
    assert all(check.verdict == Verdict.PASS for check in privacy)


def test_the_report_has_the_privacy_section(run):
    _, first, _, _ = run
    html = first.report_path.read_text(encoding="utf-8")
    section = html[html.index('id="privacy"'):]
    assert "LiRA, offline (Carlini et al. 2022)" in section and "DP-SGD twins" in section
