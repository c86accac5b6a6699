"""The fairness section: bars with error bars, both twins, small groups."""

from __future__ import annotations

from twinaudit.report import render_report

from report_helpers import full_results


def test_fairness_section_has_bars_with_error_bars_and_both_twins():
    html = render_report(full_results())
    fairness = html[html.index('id="fairness"'):html.index('id="mitigation"')]
    assert fairness.count('class="whisker"') > 4
    assert "torch (mean of 2 seeds)" in fairness and "keras (mean of 2 seeds)" in fairness
    assert "four-fifths rule" in fairness
    assert "Small groups." in fairness  # Other×Female and Other×Male have under 30 rows
    assert "within seed noise" in fairness


def test_wrong_typed_fairness_entries_render_as_missing_not_as_a_crash():
    import pytest

    results = full_results()
    twin = next(iter(next(iter(results["fairness"]["twins"].values())).values()))
    group_set = next(iter(twin["group_sets"].values()))
    for key, wrong in (("groups", 7), ("disparities", None)):
        broken = dict(group_set, **{key: wrong})
        twin["group_sets"] = {name: broken for name in twin["group_sets"]}
        html = render_report(results)
        assert "Fairness" in html
    # The model-quality and left-out-group fields, reshaped, leave gaps too.
    for wrong in ({"roc_auc": "high", "calibration_curve": [1], "score_histogram": {"a": 1}},
                  {"calibration_curve": {"rows": 3, "mean_score": None}}, 7):
        for group in group_set["groups"].values():
            group["model_quality"] = wrong
        twin["group_sets"] = {name: dict(group_set, excluded_groups=5) for name in
                              twin["group_sets"]}
        assert "Fairness" in render_report(results)
    twin["overall"] = {"metrics": [1, 2]}
    with pytest.raises(AssertionError):  # the check itself bites: a valid document differs
        assert render_report(results) == render_report(full_results())


def _audits_by_seed(seeds, **settings):
    """One real fairness audit per seed of synthetic predictions, and the data behind each."""
    import numpy as np

    from twinaudit.fairness.audit import fairness_audit

    from report_helpers import synthetic_predictions

    runs = []
    for seed in seeds:
        data = synthetic_predictions(seed)
        settings_ = {"group_sets": [["sex"]], "privileged": {"sex": "Male"}, "n_resamples": 20,
                     "random_state": 0, **settings}
        audit = fairness_audit(data["y_true"], data["y_pred"], data["y_score"],
                               data["sensitive_features"], **settings_)
        runs.append((audit, {key: np.asarray(value) if key != "sensitive_features" else value
                             for key, value in data.items()}))
    return runs


def test_model_quality_by_group_matches_scikit_learn():
    import numpy as np
    import pytest
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score

    from twinaudit.report.views.model_quality import _pooled_curve, model_quality_view

    runs = _audits_by_seed([0, 1, 2])
    entries = {"torch": [audit["group_sets"]["sex"] for audit, _ in runs]}
    view = model_quality_view("sex", ["Female", "Male"], entries)
    for row in view["auc"]:
        expected = [roc_auc_score(data["y_true"][mask], data["y_score"][mask])
                    for _, data in runs
                    for mask in [(data["sensitive_features"]["sex"] == row["label"]).to_numpy()]]
        assert row["by_framework"]["torch"]["mean"] == pytest.approx(np.mean(expected))
        assert row["by_framework"]["torch"]["std"] == pytest.approx(np.std(expected, ddof=1))
    assert len(view["charts"]) == 2 and "Reliability by sex" in view["charts"][0]

    # The reliability curve, pooled over seeds, is scikit-learn's curve of the pooled rows.
    masks = [(data["sensitive_features"]["sex"] == "Male").to_numpy() for _, data in runs]
    y_true = np.concatenate([data["y_true"][m] for (_, data), m in zip(runs, masks, strict=True)])
    y_score = np.concatenate([data["y_score"][m] for (_, data), m in zip(runs, masks, strict=True)])
    share_positive, mean_score = calibration_curve(y_true, y_score, n_bins=10)
    pooled = _pooled_curve([audit["group_sets"]["sex"]["groups"]["Male"]["model_quality"]
                            for audit, _ in runs])
    assert [x for x, _ in pooled] == pytest.approx(mean_score, abs=1e-5)  # six decimals stored
    assert [y for _, y in pooled] == pytest.approx(share_positive, abs=1e-5)


def test_without_scores_there_is_no_model_quality_block():
    from twinaudit.report.views.model_quality import model_quality_view

    runs = _audits_by_seed([0])
    for audit, _ in runs:
        for group in audit["group_sets"]["sex"]["groups"].values():
            group["model_quality"] = None
    assert model_quality_view("sex", ["Female", "Male"],
                              {"torch": [runs[0][0]["group_sets"]["sex"]]}) is None
    html = render_report(full_results())
    assert "Model quality by sex" in html  # the real audits had scores: the check can fail


def test_the_report_says_which_interval_each_figure_has_how_many_tests_and_who_is_left_out():
    from twinaudit.fairness.multiplicity import flag_run

    results = full_results()
    summary = flag_run({"baseline": results["fairness"]}, "holm", 0.05)
    html = render_report(results)
    fairness = html[html.index('id="fairness"'):html.index('id="mitigation"')]
    assert "Wilson score interval" in fairness and "BCa bootstrap" in fairness
    assert (f"This run makes {summary['comparisons']:,} distinct tests" in fairness
            and f"{summary['flagged']:,} of those tests are flagged" in fairness)
    assert summary["comparisons"] > 0
    assert "of 2 seeds" in fairness  # the "Not zero?" column counts the adjusted flags
    # The race × sex groups under 30 rows are named as left out of the disparities.
    assert "Left out of the disparities." in fairness
    assert "fewer than min_group_size (30)" in fairness
    # Without the multiplicity summary, the note goes (the check can fail).
    del results["fairness"]["multiplicity"]
    assert "distinct tests that a disparity is not zero" not in render_report(results)
