"""One run, three implementations: torch, Keras on TensorFlow and Keras on JAX (hosted).

Every pair is proven and compared (``parity`` and ``parity.pairs``, ``fairness.summary`` and
``summary_pairs``, the attribution agreement of every pair), the gate holds every pair to
parity, and the report shows the implementations × figures matrix. A fault in one hosted
implementation fails exactly the pairs that hold it.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from twinaudit.gate import Verdict, evaluate, load_rules
from twinaudit.pipeline import run_audit
from twinaudit.report.render import build_sections
from twinaudit.spec import load_spec
from twinaudit.vocabulary import FRAMEWORKS

from helpers import write_small_audit

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="jax is not installed (pip install 'twinaudit[jax]')")]

THREE = '["torch", "keras", "keras[jax]"]'


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    folder = tmp_path_factory.mktemp("three")
    path = write_small_audit(folder, train_rows=600, test_rows=300)
    path.write_text(path.read_text().replace(
        "[training]", f"[audits]\nmitigation = false\n\n[training]\nframeworks = {THREE}"))
    spec = load_spec(path)
    return run_audit(spec, output_dir=folder / "out", models_dir=folder / "models")


def test_every_pair_of_implementations_is_proven_identical(three):
    results = three.results
    parity = results["parity"]
    pairs = [parity["frameworks"], *[pair["frameworks"] for pair in parity["pairs"]]]
    torch, keras = FRAMEWORKS
    assert pairs == [[torch, keras], [torch, "keras[jax]"], [keras, "keras[jax]"]]
    for section in [parity, *parity["pairs"]]:
        assert section["proof"]["passed"], section["proof"]["text"]
        assert section["verdict"]["passed"], section["verdict"]["text"]
        assert max(stage["max"] for stage in section["proof"]["exact"].values()) < 1e-9
    assert results["environment"]["keras_backends"] == {keras: "tensorflow",
                                                        "keras[jax]": "jax"}
    assert [summary["frameworks"] for summary in
            [results["fairness"]["summary"], *results["fairness"]["summary_pairs"]]] == pairs
    agreement = results["attribution"]["methods"]["integrated_gradients"]["agreement"]
    assert {tuple(entry["frameworks"]) for entry in agreement["frameworks"]} == {
        (keras, "keras[jax]"), (keras, torch), ("keras[jax]", torch)}
    # The checkpoints of the hosted implementation load back as it.
    assert (three.results_path.parents[1] / "models" / "keras[jax]").is_dir()


def test_the_gate_holds_every_pair_and_the_report_shows_the_matrix(three):
    results = json.loads(three.results_path.read_text())
    every_pair = [check for check in evaluate(results, results, load_rules()).checks
                  if check.rule == "parity.every_pair"]
    assert len(every_pair) == 2 and all(check.verdict == Verdict.PASS for check in every_pair)
    matrix = build_sections(results)["implementations"]
    assert matrix["names"] == [*FRAMEWORKS, "keras[jax]"] and matrix["all_passed"]
    assert [row["backend"] for row in matrix["rows"]] == [None, "tensorflow", "jax"]
    assert 'id="implementations"' in three.report_path.read_text()
