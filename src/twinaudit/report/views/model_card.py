"""The model card, after Mitchell et al. (2019), "Model Cards for Model Reporting"."""

from __future__ import annotations

from twinaudit.report.formatting import number
from twinaudit.report.views._common import get


def model_card_section(results: dict) -> list[dict]:
    """The nine model-card headings, each a list of (field, value) with ``None`` = to fill.

    What only the owner knows comes from the audit's ``[model_card]`` table (kept in
    results.json with the spec); what the run knows — the model, the split it drew, the
    filters, the threshold — is filled in from the run.
    """
    data, network = results.get("data") or {}, results.get("network") or {}
    card = get(results, "audit", "spec", "model_card") or {}

    def owner(key: str) -> str | None:
        value = card.get(key)
        if isinstance(value, list):
            return "; ".join(map(str, value)) or None
        return str(value) if value else None

    threshold = get(results, "fairness", "settings", "threshold")
    filters = "; ".join(f"{entry.get('column')} {entry.get('op')} {entry.get('value')!r}"
                        for entry in data.get("filters") or []) or None
    owner_line = ", ".join(f"{label} {value}" for label, value in (
        ("owner", owner("owner")), ("contact", owner("contact")), ("licence", owner("licence")),
        ("version", owner("version"))) if value) or None
    training = results.get("training") or {}
    environment = results.get("environment") or {}
    layers = " → ".join(str(n) for n in [network.get("n_inputs"), *(network.get("hidden") or []),
                                         network.get("n_outputs")] if n is not None)
    sensitive = ", ".join(map(str, data.get("sensitive_features") or [])) or None
    return [
        {"heading": "Model details", "fields": [
            ("Model", f"{network.get('kind', '?').upper()} {layers} "
                      f"({network.get('activation', '?')}), "
                      f"{number(network.get('n_parameters'))} parameters"),
            ("Implementations", ", ".join(environment.get("frameworks") or []) or None),
            ("Training", f"{training.get('epochs', '?')} epochs, "
                         f"batch {training.get('batch_size', '?')}, "
                         f"Adam lr {training.get('learning_rate', '?')}, seeds "
                         f"{', '.join(map(str, environment.get('seeds') or []))}"),
            ("Date", environment.get("timestamp")),
            ("Owner, contact, licence, version", owner_line)]},
        {"heading": "Intended use", "fields": [
            ("Purpose of this audit", get(results, "audit", "description")),
            ("Primary intended uses", owner("intended_use")),
            ("Primary intended users", owner("intended_users")),
            ("Out-of-scope uses", owner("out_of_scope_uses"))]},
        {"heading": "Factors", "fields": [
            ("Groups audited", sensitive),
            ("Sensitive features as model inputs", data.get("sensitive_as_inputs")),
            ("Known proxies", ", ".join(data.get("proxies") or []) or None),
            ("Other relevant factors (instrumentation, environment)", owner("factors"))]},
        {"heading": "Metrics", "fields": [
            ("Performance", "accuracy on the test split, mean and spread over seeds"),
            ("Fairness", "group selection, true/false positive rates and their disparities, "
                         "with group-stratified bootstrap intervals"),
            ("Decision threshold", f"{threshold if threshold is not None else 0.5} on the "
                                   "predicted probability")]},
        {"heading": "Evaluation data", "fields": [
            ("Data set", data.get("name")),
            ("Test rows", number(get(data, "rows", "test"))), ("Split", data.get("split")),
            ("Rows kept by the filters", filters)]},
        {"heading": "Training data", "fields": [
            ("Training rows", number(get(data, "rows", "train"))),
            ("Validation rows", number(get(data, "rows", "validation"))),
            ("Source", data.get("source"))]},
        {"heading": "Quantitative analyses", "fields": [
            ("Unitary and intersectional results", "see Fairness and Twin parity below")]},
        {"heading": "Ethical considerations", "fields": [
            ("Data caveat", data.get("caveat")),
            ("Risks, harms and mitigations in deployment", owner("risks"))]},
        {"heading": "Caveats and recommendations", "fields": [
            ("From this run", "results on one data split; intervals are bootstrap intervals "
                              "of the test split, not of the population"),
            ("Recommendations", owner("recommendations"))]},
    ]
