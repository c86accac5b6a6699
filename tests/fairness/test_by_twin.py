"""The run's fairness section: per-twin audits from the predictions table, and before/after."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.fairness.audit import fairness_audit
from twinaudit.fairness.by_twin import audit_settings, before_after, fairness_by_twin
from twinaudit.families import family_of
from twinaudit.spec import spec_from_dict
from twinaudit.vocabulary import FRAMEWORKS


@pytest.fixture
def spec(tmp_path):
    return spec_from_dict({
        "audit": {"name": "t"},
        "data": {"dataset": "adult", "sensitive_features": ["sex"]},
        "fairness": {"n_resamples": 50, "privileged": {"sex": "M"}},
    }, source=tmp_path / "t.toml")


def predictions(seed_shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for framework in FRAMEWORKS:
        for seed in (0, 1):
            n = 400
            sex = rng.choice(["F", "M"], n)
            y_true = rng.integers(0, 2, n)
            score = np.clip(rng.random(n) * 0.8 + 0.2 * (sex == "M") + seed_shift, 0, 1)
            frames.append(pd.DataFrame({
                "framework": framework, "seed": seed, "y_true": y_true, "score": score,
                "y_pred": (score >= 0.5).astype(int), "sex": sex}))
    return pd.concat(frames, ignore_index=True)


def test_each_twin_is_audited_on_its_own_rows(spec):
    table = predictions()
    result = fairness_by_twin(table, spec, family_of(spec.network.kind).calibrated_scores)
    rows = table[(table["framework"] == "keras") & (table["seed"] == 1)]
    direct = fairness_audit(rows["y_true"], rows["y_pred"], rows["score"],
                            rows[["sex"]].reset_index(drop=True), group_sets=[["sex"]],
                            privileged={"sex": "M"}, n_resamples=50, random_state=0)
    assert result["twins"]["keras"]["1"] == direct
    summary = result["summary"]["group_sets"]["sex"]["demographic_parity_difference"]
    values = [result["twins"]["torch"][seed]["group_sets"]["sex"]["disparities"][
        "demographic_parity_difference"]["value"] for seed in ("0", "1")]
    assert summary["by_framework"]["torch"]["mean"] == pytest.approx(np.mean(values))


def test_before_after_reports_means_changes_and_the_first_seeds_interval(spec):
    calibrated = family_of(spec.network.kind).calibrated_scores
    before = fairness_by_twin(predictions(), spec, calibrated)
    after = fairness_by_twin(predictions(seed_shift=0.3), spec, calibrated)
    table = before_after(before, after)
    entry = table["torch"]["group_sets"]["sex"]["demographic_parity_difference"]
    after_values = [after["twins"]["torch"][seed]["group_sets"]["sex"]["disparities"][
        "demographic_parity_difference"]["value"] for seed in ("0", "1")]
    assert entry["after"]["mean"] == pytest.approx(np.mean(after_values))
    assert entry["after"]["std"] == pytest.approx(np.std(after_values, ddof=1))
    assert entry["change"] == pytest.approx(entry["after"]["mean"] - entry["before"]["mean"])
    assert entry["after"]["ci_first_seed"] == after["twins"]["torch"]["0"]["group_sets"]["sex"][
        "disparities"]["demographic_parity_difference"]["ci"]
    accuracy = table["keras"]["accuracy"]
    assert accuracy["before"]["n_seeds"] == 2 and accuracy["change"] != 0


def test_settings_and_audits_follow_the_spec_and_the_favourable_label(tmp_path):
    spec = spec_from_dict({
        "audit": {"name": "t"},
        "data": {"dataset": "adult", "sensitive_features": ["sex"]},
        "fairness": {"n_resamples": 20, "privileged": {"sex": "M"}, "min_group_size": 250,
                     "rate_interval": "clopper_pearson", "multiplicity": "benjamini_hochberg"},
    }, source=tmp_path / "t.toml")
    settings = audit_settings(spec, favourable=0)
    assert settings["favourable_label"] == 0
    assert (settings["min_group_size"], settings["rate_interval"], settings["multiplicity"]) \
        == (250, "clopper_pearson", "benjamini_hochberg")
    table = predictions()
    result = fairness_by_twin(table, spec, family_of(spec.network.kind).calibrated_scores,
                              favourable=0)
    audit = result["twins"]["torch"]["0"]
    assert audit["favourable_label"] == 0 and audit["small_group_rows"] == 250
    assert audit["rate_interval"] == "clopper_pearson"
    # About 200 rows per sex: under 250, so both are left out and nothing is compared.
    assert audit["group_sets"]["sex"]["status"] == "not_computable"
    assert len(audit["group_sets"]["sex"]["excluded_groups"]) == 2
    rows = table[(table["framework"] == "torch") & (table["seed"] == 0)]
    selected = 1 - rows["y_pred"].to_numpy()  # the favourable prediction is 0
    assert audit["overall"]["metrics"]["selection_rate"]["value"] == pytest.approx(
        selected.mean())
