"""The attribution section: tabular twins from the full results; image and text twins from
hand-built results (the layouts of ``image_attribution_audit`` and
``text_attribution_audit``)."""

from __future__ import annotations

import copy
import re

import pytest

from twinaudit.report import render_report
from twinaudit.report.charts import diverging_colour
from twinaudit.report.views import attribution_section
from twinaudit.vocabulary import FRAMEWORKS

from report_helpers import (
    IMG_PAYLOAD,
    SCRIPT_PAYLOAD,
    assert_self_contained,
    assert_well_formed,
    base_results,
    full_results,
    section_ids,
)

TWINS = ("torch/0", "keras/0", "torch/1", "keras/1")


def image_results(classes=("0", "1", "2")) -> dict:
    def maps(sign: float) -> list:
        return [[[sign * (r - c) / 10 for c in range(8)] for r in range(8)]
                for _ in classes[:-1]] + [None]  # the last class had no test rows

    pair = {"heat_map_pearson": [0.99, 0.98, None], "heat_map_pearson_mean": 0.985,
            "heat_map_pearson_min": 0.98, "heat_map_cosine_mean": 0.99,
            "row_cosine_median": 0.999, "row_cosine_p5": 0.99}
    seeds = {**pair, "heat_map_pearson": [0.41, 0.52, None], "heat_map_pearson_mean": 0.465}
    return {
        "kind": "image", "target": "log-softmax of the target class",
        "settings": {"n_rows": 50, "n_steps": 50, "integration_method": "gausslegendre",
                     "baselines": "zeros (a blank image)"},
        "image_shape": [8, 8, 1], "classes": list(classes), "rows_per_class": [30, 20, 0],
        "methods": {"integrated_gradients": {
            "twins": {key: {"status": "ok", "heat_maps": maps(1 if "0" in key else -1),
                            "completeness": {"relative_delta": 0.004, "flagged": False}}
                      for key in TWINS},
            "agreement": {"frameworks": [{"seed": 0, **pair}, {"seed": 1, **pair}],
                          "seeds": {framework: [seeds] for framework in FRAMEWORKS},
                          "summary": {"frameworks": pair, "seeds": seeds}},
            "captum_check": {"status": "ok", "twin": "torch/0", "n_rows": 50,
                             "max_abs_difference": 3e-8}}},
    }


def text_results(word: str = "great") -> dict:
    def twin(key: str) -> dict:
        return {"status": "ok", "completeness": {"relative_delta": 2e-7, "flagged": False},
                "top_tokens": {"positive": [{"token": word, "mean": 0.31, "count": 12},
                                            {"token": "love", "mean": 0.2, "count": 9}],
                               "negative": [{"token": "awful", "mean": -0.4, "count": 7}]}}

    figures = {"cosine_median": 0.999, "cosine_p5": 0.99, "spearman_median": 0.98,
               "spearman_p5": 0.9}
    return {
        "kind": "text", "target": "log-odds of class 1",
        "settings": {"n_rows": 40, "n_steps": 50, "integration_method": "gausslegendre",
                     "baselines": "padding (the padding token's embedding at every position)",
                     "attributed_through": "the embedding layer's output", "min_token_count": 5},
        "methods": {"integrated_gradients": {
            "twins": {key: twin(key) for key in TWINS},
            "examples": [{"row_id": 7, "label": 1, "tokens": ["a", word, "film"],
                          "group": {"domain": "movie"},
                          "twins": {key: {"attributions": [0.0, 0.52, -0.1], "log_odds": 1.2,
                                          "baseline_log_odds": 0.3, "delta": 1e-6}
                                    for key in ("torch/0", "keras/0")}}],
            "agreement": {"summary": {"frameworks": figures,
                                      "seeds": {**figures, "spearman_median": 0.5}}},
            "captum_check": {"status": "ok", "twin": "torch/0", "n_rows": 40,
                             "max_abs_difference": 4e-9}}},
    }


def rendered(attribution: dict) -> tuple[str, str]:
    results = base_results("digits")
    results["attribution"] = attribution
    html = render_report(results)
    assert_well_formed(html)
    assert_self_contained(html)
    return html, html[html.index('id="attribution"'):html.index('id="environment"')]


def test_attribution_shows_importance_agreement_shares_and_what_did_not_apply():
    html = render_report(full_results())
    attribution = html[html.index('id="attribution"'):html.index('id="benchmarks"')]
    assert "global importance, top 5 features" in attribution
    assert "torch (mean of 2 seeds)" in attribution and "keras (mean of 2 seeds)" in attribution
    assert "0.940" in attribution and "0.810" in attribution  # frameworks vs seeds
    assert "relationship" in attribution and "0.290" in attribution
    assert "captum explains PyTorch models only" in attribution
    assert "2.00e-07" in attribution
    benchmarks = html[html.index('id="benchmarks"'):html.index('id="environment"')]
    assert "4 ms" in benchmarks and "12 ms" in benchmarks and "AMD EPYC" in benchmarks


def test_image_twins_get_heat_maps_side_by_side_with_numbers():
    html, section = rendered(image_results())
    assert "attribution" in section_ids(html)
    svg = re.search(r"<svg.*?</svg>", section, re.DOTALL).group(0)
    # One row per twin, twins of a seed adjacent; one panel per class.
    labels = re.findall(r'text-anchor="end" class="tick">([^<]+)<', svg)
    assert labels == ["torch/0", "keras/0", "torch/1", "keras/1"]
    assert svg.count("<g transform") == 4 * 3
    assert svg.count('<rect x="0" y="0" width="10" height="10"') == 4 * 2  # the empty class
    # Colour is not the only carrier: every cell has its value, the legend its numbers.
    assert "<title>+0.700</title>" in svg and "<title>−0.700</title>" in svg
    assert "+0.700</text>" in svg and "−0.700</text>" in svg
    # Agreement per class and overall, frameworks beside seeds; the captum check.
    assert "0.990" in section and "0.410" in section and "0.465" in section
    assert "max |difference| 3.00e-08" in section


def test_text_twins_get_top_tokens_and_signed_scores_per_token():
    _, section = rendered(text_results())
    assert section.count("great <span") == 4  # one cell per twin in the top-token table
    assert "+0.310" in section and "awful" in section and "−0.400" in section
    # The example: each token with both twins' signed scores, shaded as well.
    assert section.count(">+0.520</span>") == 2 and section.count(">−0.100</span>") == 2
    assert f"background: {diverging_colour(0.52, 0.52)}" in section
    assert "Sentence Spearman, median" in section and "0.500" in section
    assert "max |difference| 4.00e-09" in section


def test_not_applicable_attribution_says_why():
    _, section = rendered({"status": "not_applicable",
                           "reason": "the autoencoder's score is a reconstruction error"})
    assert "Not applicable: the autoencoder&#39;s score is a reconstruction error." in section \
        or "Not applicable: the autoencoder's score is a reconstruction error." in section


def test_words_and_labels_from_the_data_are_escaped():
    results = image_results(classes=(SCRIPT_PAYLOAD, "1", IMG_PAYLOAD))
    html, _ = rendered(results)
    assert "<script>alert" not in html and "<img" not in html
    html, section = rendered(text_results(word=SCRIPT_PAYLOAD))
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in section


@pytest.mark.parametrize("kind", ["image", "text"])
def test_reshaped_or_partial_results_still_render(kind):
    full = image_results() if kind == "image" else text_results()
    ig = full["methods"]["integrated_gradients"]
    for breakage in (lambda r: r["methods"].pop("integrated_gradients"),
                     lambda r: r["methods"]["integrated_gradients"].update(twins=None),
                     lambda r: r["methods"]["integrated_gradients"].update(agreement={}),
                     lambda r: r["methods"]["integrated_gradients"].update(examples=[None, 3]),
                     lambda r: r["methods"]["integrated_gradients"].update(twins=[1]),
                     lambda r: r["methods"]["integrated_gradients"].update(
                         agreement={"frameworks": 3, "seeds": [1], "summary": [2]}),
                     lambda r: r.update(classes=[1, 2, 3, 4], rows_per_class="x"),
                     lambda r: r["methods"]["integrated_gradients"]["twins"]["torch/0"].update(
                         heat_maps=[[["x"]], [[1, 2], [3]]],
                         top_tokens={"positive": ["x", 3, None], "negative": 5})):
        results = copy.deepcopy(full)
        breakage(results)
        rendered(results)
    assert ig is full["methods"]["integrated_gradients"]
    assert attribution_section({"attribution": full})["kind"] == kind
