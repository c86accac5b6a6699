"""The "predictions" data set: a table of predictions made elsewhere, read and checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twinaudit.data.predictions import load_predictions
from twinaudit.errors import TwinauditError
from twinaudit.spec import spec_from_dict


def table(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "outcome": rng.choice(["reoffended", "did not"], rows),
        "risk": rng.choice(["Low", "Medium", "High"], rows),
        "p": rng.random(rows).round(3),
        "race": rng.choice(["x", "y"], rows),
        "age": rng.integers(18, 70, rows),
        "keep": rng.choice(["yes", "no"], rows),
    })


def spec_for(tmp_path: Path, frame: pd.DataFrame, **data):
    path = tmp_path / "scores.csv"
    frame.to_csv(path, index=False)
    values = {"dataset": "predictions", "path": str(path), "label": "outcome",
              "positive": "reoffended", "sensitive_features": ["race"], **data}
    return spec_from_dict({"audit": {"name": "p"}, "data": values}, source=tmp_path / "p.toml")


def test_a_prediction_column_with_its_positive_values(tmp_path):
    frame = table()
    loaded = load_predictions(spec_for(tmp_path, frame, prediction="risk",
                                       predicted_positive=["Medium", "High"],
                                       favourable="did not"))
    np.testing.assert_array_equal(loaded.frame["y_true"], frame["outcome"] == "reoffended")
    np.testing.assert_array_equal(loaded.frame["y_pred"], frame["risk"].isin(["Medium", "High"]))
    np.testing.assert_array_equal(loaded.frame["race"], frame["race"])
    assert not loaded.has_scores and loaded.favourable_label == 0
    summary = loaded.summary
    assert summary["rows"] == {"test": 200} and summary["favourable"] == "did not"
    assert summary["predictions"] == {"column": "risk", "predicted_positive": ["Medium", "High"]}
    counts = {group: entry["count"] for group, entry in summary["groups"]["race"]["test"].items()}
    assert counts == frame["race"].value_counts().to_dict()


def test_a_score_column_at_a_threshold_with_filters_and_bins(tmp_path):
    frame = table()
    loaded = load_predictions(spec_for(
        tmp_path, frame, score="p", threshold=0.3, sensitive_features=["race", "age"],
        bins={"age": [40]}, filters=[{"column": "keep", "op": "==", "value": "yes"}]))
    kept = frame[frame["keep"] == "yes"].reset_index(drop=True)
    np.testing.assert_allclose(loaded.frame["score"], kept["p"])
    np.testing.assert_array_equal(loaded.frame["y_pred"], kept["p"] >= 0.3)
    np.testing.assert_array_equal(loaded.frame["age"], np.where(kept["age"] < 40, "<40", ">=40"))
    assert loaded.summary["rows_before_filters"] == 200
    assert loaded.summary["rows_after_filters"] == len(kept)


@pytest.mark.parametrize("change, data, expected", [
    (lambda f: f.assign(p=f["p"] * 10), {"score": "p"}, "score column 'p' holds"),
    (lambda f: f.assign(p=np.where(f.index == 4, np.nan, f["p"])), {"score": "p"},
     "at data row 5"),
    (lambda f: f.assign(risk=f["risk"].where(f.index != 2)),
     {"prediction": "risk", "predicted_positive": ["High"]},
     "prediction column 'risk' has a missing value at data row 3"),
    (lambda f: f, {"prediction": "risk", "predicted_positive": ["high"]},
     "predicted_positive value 'high' does not occur in column 'risk'"),
    (lambda f: f.drop(columns="risk"), {"prediction": "risk", "predicted_positive": ["High"]},
     "no column 'risk'"),
    (lambda f: f, {"score": "p", "positive": "yes"}, "one of them the positive 'yes'"),
], ids=["score_range", "score_missing", "prediction_missing", "positive_value", "no_column",
        "label"])
def test_bad_prediction_tables_are_one_line_naming_file_and_column(tmp_path, change, data,
                                                                   expected):
    with pytest.raises(TwinauditError) as error:
        load_predictions(spec_for(tmp_path, change(table()), **data))
    message = str(error.value)
    assert message.startswith(str(tmp_path / "scores.csv")) and "\n" not in message
    assert expected in message
