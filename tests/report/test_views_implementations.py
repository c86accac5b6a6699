"""The implementations × figures matrix: read from every pair's parity section, the pairwise
fairness summaries and the attribution agreement, with a failing pair shown as failing."""

from __future__ import annotations

from twinaudit.report.views.implementations import implementations_matrix
from twinaudit.vocabulary import FRAMEWORKS


def pair(first, second, *, passed=True, exact=1e-15, accuracy=(0.8, 0.8)):
    return {"frameworks": [first, second],
            "verdict": {"passed": passed, "text": "PASS" if passed else "FAIL: one step"},
            "proof": {"exact": {"outputs": {"max": exact / 10}, "one_step": {"max": exact}}},
            "accuracy": {"by_framework": {first: {"mean": accuracy[0]},
                                          second: {"mean": accuracy[1]}}}}


def results(*, faulty=False):
    bad = {"passed": not faulty, "exact": 2e-3 if faulty else 3e-15}
    return {
        "parity": {**pair("torch", "keras"), "pairs": [
            pair("torch", "keras[jax]", **bad, accuracy=(0.8, 0.7)),
            pair("keras", "keras[jax]", **bad, accuracy=(0.8, 0.7))]},
        "environment": {"keras_backends": {"keras": "tensorflow", "keras[jax]": "jax"}},
        "fairness": {"summary_pairs": [
            {"frameworks": ["torch", "keras[jax]"],
             "group_sets": {"sex": {"demographic_parity_difference": {"verdict": "different"}}}}]},
        "attribution": {"methods": {"integrated_gradients": {"agreement": {
            "seeds": {}, "frameworks": [
                {"seed": 0, "frameworks": ["keras[jax]", "torch"], "cosine_median": 0.9},
                {"seed": 1, "frameworks": ["keras[jax]", "torch"], "cosine_median": 0.7}]}}}},
    }


class Figure:
    def __init__(self, mean):
        self.mean = mean


FAIRNESS_VIEW = {"group_sets": [{"name": "sex", "disparities": [
    {"name": "demographic_parity_difference", "headline": True,
     "by_framework": {"torch": {"figure": Figure(0.1)}, "keras[jax]": {"figure": Figure(0.2)}}},
    {"name": "not_a_headline", "headline": False, "by_framework": {}}]}]}


def test_each_implementation_is_a_row_read_against_the_reference():
    matrix = implementations_matrix(results(), FAIRNESS_VIEW)
    assert matrix["names"] == [*FRAMEWORKS, "keras[jax]"] and matrix["all_passed"]
    torch, keras, jax = matrix["rows"]
    assert torch["verdict"] is None and keras["verdict"]["passed"] and jax["backend"] == "jax"
    assert jax["accuracy"] == 0.7 and jax["float64"] == 3e-15
    assert matrix["disparities"] == [{"group_set": "sex",
                                      "name": "demographic_parity_difference"}]
    assert jax["disparities"] == [{"mean": 0.2, "reading": "different"}]
    assert keras["disparities"] == [{"mean": None, "reading": None}]
    assert jax["agreement"] == 0.8 and keras["agreement"] is None
    assert [cell is None for cell in matrix["grid"][0]["cells"]] == [True, False, False]


def test_a_failing_pair_fails_its_cells_and_the_whole():
    matrix = implementations_matrix(results(faulty=True), FAIRNESS_VIEW)
    assert not matrix["all_passed"]
    assert matrix["rows"][2]["verdict"]["passed"] is False
    grid = {line["name"]: line["cells"] for line in matrix["grid"]}
    assert grid["torch"][1]["passed"] and not grid["torch"][2]["passed"]
    assert grid["keras[jax]"][1]["float64"] == 2e-3  # the pair read from either side


def test_a_run_of_two_implementations_has_no_matrix():
    assert implementations_matrix({"parity": pair("torch", "keras")}, None) is None
    assert implementations_matrix({}, None) is None
