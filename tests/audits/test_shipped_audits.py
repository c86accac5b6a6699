"""The audits shipped under audits/: their results hold honest intervals, and the COMPAS twin
audit (when ProPublica's file lies beside the repository) runs with its defaults to exit 0."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import COMPAS_CSV, REPO, check_intervals

TWINAUDIT = str(Path(sys.executable).with_name("twinaudit"))


def test_every_interval_of_the_shipped_adult_results_contains_its_estimate():
    # reports/baseline/adult.json is the shipped Adult audit's run (CI gates against it).
    baseline = json.loads((REPO / "reports" / "baseline" / "adult.json").read_text())
    checked, outside = check_intervals(baseline)
    assert checked > 1000 and outside == [], outside[:5]
    # Teeth: one estimate moved past its interval is found, by path.
    moved = copy.deepcopy(baseline)
    entry = moved["fairness"]["twins"]["torch"]["0"]["group_sets"]["sex"]["disparities"][
        "demographic_parity_difference"]
    entry["value"] = entry["ci"][1] + 0.01
    _, outside = check_intervals(moved)
    assert outside == [f"fairness.twins.torch.0.group_sets.sex.disparities."
                       f"demographic_parity_difference: {entry['value']} outside {entry['ci']}"]


@pytest.mark.slow
@pytest.mark.skipif(not COMPAS_CSV.is_file(), reason=f"ProPublica's COMPAS file is not at "
                                                    f"{COMPAS_CSV} (it is not shipped)")
def test_the_shipped_compas_twin_audit_runs_with_its_defaults(tmp_path):
    # Issue 12 began with this audit crashing after all training (a 2-row validation group).
    completed = subprocess.run(
        [TWINAUDIT, "run", str(REPO / "audits" / "compas.toml"), "--output-dir",
         str(tmp_path / "out"), "--models-dir", str(tmp_path / "models"), "--quiet"],
        capture_output=True, text=True, timeout=1500)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["parity"]["verdict"]["passed"], results["parity"]["verdict"]["text"]
    # Not re-offending is the favourable outcome: a selection rate is the share predicted "0".
    assert results["fairness"]["settings"]["favourable_label"] == 0
    checked, outside = check_intervals(results)
    assert checked > 1000 and outside == [], outside[:5]
