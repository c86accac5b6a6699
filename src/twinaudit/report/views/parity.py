"""Twin parity: the arithmetic proof, the chaos envelope, and the outcomes' equivalence."""

from __future__ import annotations

from collections.abc import Mapping

from twinaudit.report.charts import line_chart
from twinaudit.report.views._common import get
from twinaudit.vocabulary import FRAMEWORKS

#: The proof's stages as the report names them.
STAGE_LABELS = {"outputs": "Step-0 outputs", "gradients": "Step-0 gradients",
                "one_step": "One optimizer step", "five_steps": "Five optimizer steps"}


def parity_section(results: dict) -> dict | None:
    parity = results.get("parity")
    if not isinstance(parity, Mapping):
        return None
    per_seed = [row for row in parity.get("per_seed") or [] if isinstance(row, Mapping)]
    # Results written before each pair named its implementations compared the registry's two.
    pair = [str(name) for name in parity.get("frameworks") or FRAMEWORKS[:2]]
    series = {}
    for row in per_seed:
        points = [(p.get("epoch", i) + 1, p.get("max_abs_logit_diff"))
                  for i, p in enumerate(row.get("divergence") or []) if isinstance(p, Mapping)]
        series[f"seed {row.get('seed')}"] = points
    chart = line_chart(series, title=f"{pair[0]}–{pair[1]} divergence over training, per seed",
                       x_label="epoch", y_label="max |Δ logit| on test", log_y=True) \
        if series else None
    proof = get(parity, "proof", default={})
    stages = [{"label": label,
               "exact": get(proof, "exact", stage, "max"),
               "exact_passed": get(proof, "exact", stage, "passed"),
               "ratio": get(proof, "float32", stage, "max_ratio"),
               "ratio_passed": get(proof, "float32", stage, "passed")}
              for stage, label in STAGE_LABELS.items()]
    return {"parity": parity, "pair": pair, "per_seed": per_seed, "chart": chart,
            "proof": proof, "stages": stages, "chaos": parity.get("chaos"),
            "chaos_chart": chaos_chart(parity, pair),
            "accuracy": parity.get("accuracy") or {},
            "verdict": parity.get("verdict") or {}}


def chaos_chart(parity: Mapping, pair: list[str]) -> object | None:
    """The twins' drift and one framework's one-ulp self-drift per epoch, on one chart."""
    epochs = [row for row in get(parity, "chaos", "epochs", default=[])
              if isinstance(row, Mapping)]
    if not epochs:
        return None
    framework = get(parity, "chaos", "framework", default="reference")
    series = {
        f"{pair[0]} vs {pair[1]}": [(row.get("epoch", i) + 1, row.get("twins_parameter_distance"))
                           for i, row in enumerate(epochs)],
        f"{framework} vs itself, one ulp apart": [
            (row.get("epoch", i) + 1, row.get("self_parameter_distance"))
            for i, row in enumerate(epochs)],
    }
    return line_chart(series, title="Training drift against the chaos envelope",
                      x_label="epoch", y_label="relative parameter distance", log_y=True)
