"""Twin parity: step-0 and one-step checks, divergence over training, accuracy per twin."""

from __future__ import annotations

from collections.abc import Mapping

from twinaudit.report.charts import line_chart


def parity_section(results: dict) -> dict | None:
    parity = results.get("parity")
    if not isinstance(parity, Mapping):
        return None
    per_seed = [row for row in parity.get("per_seed") or [] if isinstance(row, Mapping)]
    series = {}
    for row in per_seed:
        points = [(p.get("epoch", i) + 1, p.get("max_abs_logit_diff"))
                  for i, p in enumerate(row.get("divergence") or [])]
        series[f"seed {row.get('seed')}"] = points
    chart = line_chart(series, title="Torch–Keras divergence over training, per seed",
                       x_label="epoch", y_label="max |Δ logit| on test", log_y=True) \
        if series else None
    return {"parity": parity, "per_seed": per_seed, "chart": chart,
            "accuracy": parity.get("accuracy") or {}}
