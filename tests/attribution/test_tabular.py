"""The tabular attribution audit end to end, on initialised twins of every framework."""

import json

import pytest

from twinaudit.attribution import attribution_audit
from twinaudit.vocabulary import FRAMEWORKS

from helpers import built_twin


@pytest.mark.slow  # the whole audit, every method over every twin
def test_attribution_audit_end_to_end(small_dataset, adult_network):
    twins = {(framework, seed): built_twin(framework, adult_network, random_state=seed)
             for framework in FRAMEWORKS for seed in (0, 1)}
    result = attribution_audit(
        twins, small_dataset, proxy_columns=["relationship=", "marital_status="], n_rows=60,
        methods=["integrated_gradients", "deeplift", "shap_gradient"], n_explainer_rows=10,
        n_metric_rows=10, random_state=0,
    )
    assert json.loads(json.dumps(result)) == result                       # JSON-ready
    assert result["settings"]["n_rows"] == 60 and result["columns"]["unmatched"] == []
    ig = result["methods"]["integrated_gradients"]
    assert set(ig["twins"]) == {"torch/0", "torch/1", "keras/0", "keras/1"}
    assert ig["captum_check"]["max_abs_difference"] < 1e-5
    assert len(ig["twins"]["keras/1"]["global_importance"]) == len(small_dataset.feature_names)
    assert ig["twins"]["torch/0"]["infidelity"] is not None
    # Identical weights: torch and Keras agree exactly; two seeds do not.
    assert ig["agreement"]["summary"]["frameworks"]["cosine_p5"] == pytest.approx(1.0, abs=1e-5)
    assert ig["agreement"]["summary"]["seeds"]["cosine_median"] < 0.99
    assert result["methods"]["deeplift"]["twins"]["keras/0"]["status"] == "not_applicable"
    shap_twins = result["methods"]["shap_gradient"]["twins"]
    assert shap_twins["torch/0"]["status"] == "ok"
    # shap on a Keras 3 model may fail in some versions: then the entry says why.
    assert all(entry["status"] == "ok" or entry["reason"] for entry in shap_twins.values())
    with pytest.raises(ValueError, match="unknown attribution methods"):
        attribution_audit(twins, small_dataset, methods=["lime"])
