"""The run's fairness section: per-twin audits from the predictions table, and before/after."""

import numpy as np
import pandas as pd
import pytest

from twinaudit.fairness.audit import fairness_audit
from twinaudit.fairness.by_twin import before_after, fairness_by_twin
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
    result = fairness_by_twin(table, spec, family_of(spec.network.kind))
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
    before = fairness_by_twin(predictions(), spec, family_of(spec.network.kind))
    after = fairness_by_twin(predictions(seed_shift=0.3), spec, family_of(spec.network.kind))
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
