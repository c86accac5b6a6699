"""Hand-built results and HTML checks shared by the report tests (and other tests).

Not a test module: test modules import from here, never from one another. The ``*_results``
builders are used by the tests under tests/report/ and by test_compare.py, the HTML checks by
test_pipeline.py too.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import numpy as np
import pandas as pd

from twinaudit.audits.parity import verdict as parity_verdict
from twinaudit.audits.proof import STAGES, summarise
from twinaudit.audits.seed_noise import compare_frameworks
from twinaudit.fairness.audit import fairness_audit, summarise_across_seeds
from twinaudit.fairness.by_twin import before_after
from twinaudit.privacy.audit import by_framework as privacy_by_framework
from twinaudit.privacy.membership import attack_figures
from twinaudit.vocabulary import FRAMEWORKS as REGISTERED

SCRIPT_PAYLOAD = "<script>alert(1)</script>"
IMG_PAYLOAD = '"><img src=x onerror=alert(1)>'
#: The hand-built results describe a run of the registry's first two frameworks.
FRAMEWORKS = REGISTERED[:2]
SEEDS = (0, 1)


# ---------------------------------------------------------------------------------------------
# Hand-built results


def base_results(name: str = "adult") -> dict:
    """A results dict shaped like the default audit's, small enough to read."""
    groups = {"Female": {"count": 540, "base_rate": 0.11}, "Male": {"count": 1080,
                                                                    "base_rate": 0.30}}
    race = {"White": {"count": 1390, "base_rate": 0.25}, "Black": {"count": 210,
                                                                   "base_rate": 0.12},
            "Other": {"count": 20, "base_rate": 0.10}}
    per_seed = [{
        "seed": seed, "proof": proof_row(seed),
        "accuracy": dict(zip(FRAMEWORKS, (0.851 + seed / 1000, 0.850 + seed / 1000), strict=True)),
        "prediction_agreement": 0.997,
        "divergence": [{"epoch": e, "max_abs_logit_diff": 2e-6 * 10 ** e,
                        "mean_abs_logit_diff": 1e-7 * 10 ** e, "parameter_distance": 1e-4 * e}
                       for e in range(4)],
    } for seed in SEEDS]
    proof = summarise([row["proof"] for row in per_seed])
    chaos = {"framework": FRAMEWORKS[0], "seed": 0,
             "perturbation": "initial weights one float32 ulp up", "multiple": 10.0,
             "early_ratio": 0.8, "late_ratio": 0.77, "max_ratio": 0.8, "inside": True,
             "text": "inside the chaos envelope (twins' drift 0.8× one framework's own one-ulp "
                     "drift after the first epoch, 0.77× at its largest; limit 10×)",
             "epochs": [{"epoch": e, "twins_parameter_distance": 1e-6 * 10 ** e,
                         "self_parameter_distance": 1.3e-6 * 10 ** e,
                         "twins_max_abs_logit_diff": 2e-6 * 10 ** e,
                         "self_max_abs_logit_diff": 2.5e-6 * 10 ** e, "ratio": 0.77}
                        for e in range(4)]}
    accuracy = compare_frameworks({fw: [0.851, 0.853] for fw in FRAMEWORKS}, FRAMEWORKS,
                                  margin=0.01)
    return {
        "schema_version": 2, "kind": "twinaudit.results", "twinaudit_version": "0.1.0",
        "audit": {"name": name, "description": "UCI Adult income MLP, audited by sex and race.",
                  "spec_file": "audits/adult.toml", "spec": {"audit": {"name": name}},
                  "command": "twinaudit run audits/adult.toml"},
        "environment": {
            "python": "3.11.7", "packages": dict(torch="2.13.0", keras="3.15.1", shap=None),
            "platform": "Linux", "machine": "x86_64", "processor": "AMD EPYC", "cpu_count": 2,
            "device": "cpu", "seeds": list(SEEDS), "frameworks": list(FRAMEWORKS),
            "keras_backend": "tensorflow", "settings": {"precision": "float32"},
            "git_sha": "0123abcd", "timestamp": "2026-01-01T00:00:00+00:00"},
        "data": {"name": "adult", "label": "income", "positive_label": ">50K",
                 "rows": {"train": 4000, "validation": 1000, "test": 1620},
                 "positive_rate": {"train": 0.24, "validation": 0.23, "test": 0.236},
                 "majority_class_rate": {"train": 0.76, "validation": 0.77, "test": 0.764},
                 "n_features": 90, "feature_names": ["age", "sex=Female", "sex=Male"],
                 "sensitive_features": ["sex", "race"],
                 "groups": {"sex": {"test": groups, "train": groups},
                            "race": {"test": race, "train": race}},
                 "source": "UCI Machine Learning Repository", "licence": "CC BY 4.0",
                 "sha256": {"adult.data": "5b00"}, "split": "official test split",
                 "proxies": ["relationship"], "sensitive_as_inputs": True, "split_seed": 0,
                 "caveat": "A benchmark, not a basis for decisions about people."},
        "network": {"kind": "mlp", "n_inputs": 90, "hidden": [64, 32], "n_outputs": 2,
                    "activation": "relu", "n_parameters": 7970},
        "training": {"epochs": 4, "batch_size": 256, "learning_rate": 0.001},
        "twins": [{"framework": fw, "seed": seed, "test_accuracy": 0.85, "epochs_run": 4,
                   "best_epoch": 3, "train_seconds": 0.5, "history": []}
                  for seed in SEEDS for fw in FRAMEWORKS],
        "parity": {
            "proof": proof, "chaos": chaos, "accuracy": accuracy, "dropout_disabled": False,
            "verdict": parity_verdict(proof, chaos, accuracy, "accuracy"),
            "prediction_agreement": {"mean": 0.9977, "min": 0.9967},
            "per_seed": per_seed},
    }


def proof_row(seed: int) -> dict:
    """One seed's arithmetic proof, as :func:`twinaudit.audits.proof.prove` lays it out."""
    return {"seed": seed,
            "exact": {stage: {"per_tensor": {"dense_0.kernel": 3e-16}, "max": 3e-16,
                              "worst_tensor": "dense_0.kernel", "passed": True}
                      for stage in STAGES},
            "float32": {stage: {"per_tensor": {"dense_0.kernel": 1.5},
                                "cross": {"dense_0.kernel": 2.4e-7}, "max_ratio": 1.5,
                                "worst_tensor": "dense_0.kernel", "passed": True}
                        for stage in STAGES}}


def synthetic_predictions(seed: int, *, shift: float = 0.0, n_rows: int = 1500,
                          sex: tuple[str, str] = ("Female", "Male")) -> dict:
    """Predictions whose selection rate differs by group; ``shift`` narrows the gap."""
    random = np.random.default_rng(seed)
    sexes = random.choice(list(sex), n_rows, p=[0.4, 0.6])
    race = random.choice(["White", "Black", "Other"], n_rows, p=[0.78, 0.2, 0.02])
    advantage = (0.15 - shift) * (sexes == sex[1])
    y_true = (random.random(n_rows) < 0.25 + advantage).astype(int)
    y_score = np.clip(0.35 * y_true + 0.5 * random.random(n_rows) + advantage, 0, 1)
    return {"y_true": y_true, "y_pred": (y_score > 0.5).astype(int), "y_score": y_score,
            "sensitive_features": pd.DataFrame({"sex": sexes, "race": race})}


def twin_fairness(*, shift: float = 0.0, sex: tuple[str, str] = ("Female", "Male")) -> dict:
    """``{"twins": {framework: {seed: audit}}, "summary": ...}`` from real fairness audits."""
    twins: dict = {}
    runs = []
    for index, framework in enumerate(FRAMEWORKS):
        for seed in SEEDS:
            data = synthetic_predictions(seed * 7 + index, shift=shift, sex=sex)
            audit = fairness_audit(
                data["y_true"], data["y_pred"], data["y_score"], data["sensitive_features"],
                group_sets=[["sex"], ["sex", "race"]], privileged={"sex": sex[1]},
                n_resamples=40, random_state=0)
            twins.setdefault(framework, {})[str(seed)] = audit
            runs.append({"framework": framework, "seed": seed, "audit": audit})
    return {"twins": twins, "summary": summarise_across_seeds(runs, frameworks=FRAMEWORKS)}


def full_results() -> dict:
    """Every section: the default audit plus fairness, mitigation, attribution, benchmarks."""
    results = base_results()
    results["fairness"] = twin_fairness()
    # As a run writes them: each method's audits and their before/after table.
    results["mitigation"] = {
        method: {"groups": ["sex"], "fairness": after,
                 "before_after": before_after(results["fairness"], after)}
        for method, after in (("reweighing", twin_fairness(shift=0.1)),
                              ("threshold_optimizer", twin_fairness(shift=0.2)))}
    features = ["age", "capital_gain", "sex=Male", "relationship=Husband", "hours_per_week"]
    results["attribution"] = attribution_results(features)
    results["counterfactual"] = counterfactual_results()
    results["privacy"] = privacy_results(results["fairness"])
    results["benchmarks"] = {
        "rows": [{"name": "predict_batch", "framework": fw, "median_s": m, "iqr_s": m / 10,
                  "ratio": m / 0.004, "samples_s": [m] * 5} for fw, m in
                 (("torch", 0.004), ("keras", 0.012))],
        "machine": {"processor": "AMD EPYC", "cpu_count": 2}}
    return results


def privacy_results(fairness: dict) -> dict:
    """A privacy audit as a run writes it: an attack's figures on simulated scores (members
    score a little higher) for two seeds per framework, and one DP-SGD budget."""
    rng = np.random.default_rng(0)
    members = np.r_[np.ones(1200, bool), np.zeros(1200, bool)]
    groups = {"sex": rng.choice(["Female", "Male"], 2400)}
    figures = {(framework, seed): attack_figures(
        rng.normal(0, 1, 2400) + 0.2 * members, members, groups, n_resamples=50,
        confidence=0.95, random_state=seed, min_group_size=30)
        for framework in FRAMEWORKS for seed in (0, 1)}
    attack = {"twins": [{"framework": fw, "seed": seed, **entry}
                        for (fw, seed), entry in figures.items()],
              "by_framework": privacy_by_framework(figures, list(FRAMEWORKS), 0.95)}
    after = twin_fairness(shift=0.05)
    loss = {"n_seeds": 2, "mean": 0.01, "ci": [0.0, 0.02], "level": 0.95,
            "reading": "no clear change"}
    budget = {"target_epsilon": 1.0, "noise_multiplier": 1.5, "delta": 1e-5, "steps": 1020,
              "sampling": "poisson", "sampling_rate": 0.0098,
              "epsilon": {"rdp": 1.0, "pld": 0.9}, "twins": [], "fairness": after,
              "before_after": before_after(fairness, after),
              "group_accuracy": {fw: {"sex": {"groups": [
                  {"group": "Female", "train_rows": 800, "before": 0.9, "after": 0.89,
                   "loss": loss}],
                  "smallest_vs_largest": {"smallest": "Female", "largest": "Male",
                                          "difference": loss}}} for fw in FRAMEWORKS},
              "attack": attack,
              "parity": {"proof": {"passed": True, "max_difference": 1e-16, "text": "PASS"}}}
    return {"candidates": {"members": 1200, "non_members": 1200, "balance": "1200 and 1200"},
            "attacks": {"loss_threshold": attack},
            "dp_sgd": {"clipping_norm": 1.0, "delta": 1e-5, "budgets": [budget]}}


def counterfactual_results() -> dict:
    """A sentiment run's counterfactual identity test, two seeds per framework."""
    def seeds(gap):
        return {str(seed): {"groups": {
            "female": {"gap": gap + seed / 100, "ci": [gap - 0.01, gap + 0.01]},
            "male": {"gap": -gap - seed / 100, "ci": [-gap - 0.01, -gap + 0.01]}}}
            for seed in (0, 1)}

    return {"templates": ["{person} wrote this <b>review</b>."], "n_templates": 1,
            "confidence": 0.95, "categories": {"gender": {
                "groups": {"female": {"terms": ["she", "mary"], "in_vocabulary": 0.5},
                           "male": {"terms": ["he"], "in_vocabulary": 1.0}},
                "twins": {framework: seeds(0.02) for framework in FRAMEWORKS},
                "spread": compare_frameworks({fw: [0.04, 0.05] for fw in FRAMEWORKS},
                                             FRAMEWORKS, margin=0.02)}}}


def attribution_results(features: list[str]) -> dict:
    """The layout of twinaudit.attribution.attribution_audit, two seeds per framework."""

    def twin(framework: str, seed: int) -> dict:
        return {"status": "ok", "global_importance": [
                    0.5 / (i + 1) + 0.01 * (framework == "keras") + 0.001 * seed
                    for i in range(len(features))],
                "completeness": {"relative_delta": 0.004, "flagged": False},
                "fairness": {"share": {"sensitive": 0.08, "proxy": 0.21,
                                       "sensitive_or_proxy": 0.29}}}

    agreement = {"spearman": 0.94, "top_k_overlap": 0.9, "cosine_median": 0.99,
                 "cosine_p5": 0.97}
    return {
        "target": "log-odds of class 1", "feature_names": features,
        "settings": {"n_rows": 200, "n_steps": 50, "integration_method": "gausslegendre",
                     "baselines": "train_mean"},
        "columns": {"sensitive": ["sex"], "proxy": ["relationship"]},
        "methods": {
            "integrated_gradients": {
                "twins": {f"{fw}/{seed}": twin(fw, seed) for fw in FRAMEWORKS
                          for seed in (0, 1)},
                "agreement": {"summary": {"frameworks": agreement,
                                          "seeds": {**agreement, "spearman": 0.81}}},
                "captum_check": {"twin": "torch/0", "n_rows": 200,
                                 "max_abs_difference": 2e-7}},
            "deeplift": {
                "twins": {"torch/0": twin("torch", 0),
                          "keras/0": {"status": "not_applicable",
                                      "reason": "captum explains PyTorch models only"}},
                "agreement": {"summary": {"frameworks": None, "seeds": None}}},
        },
    }


def poisoned_results() -> dict:
    """User-controlled names (columns, categories, features) carrying markup payloads."""
    results = full_results()
    payload_sex = (SCRIPT_PAYLOAD, IMG_PAYLOAD)
    results["audit"]["name"] = f"audit {SCRIPT_PAYLOAD}"
    results["data"]["sensitive_features"] = [SCRIPT_PAYLOAD, IMG_PAYLOAD]
    results["data"]["groups"] = {SCRIPT_PAYLOAD: {"test": {
        IMG_PAYLOAD: {"count": 10, "base_rate": 0.5}, SCRIPT_PAYLOAD: {"count": 20,
                                                                       "base_rate": 0.1}}}}
    results["data"]["label"] = IMG_PAYLOAD
    results["fairness"] = twin_fairness(sex=payload_sex)
    results["mitigation"] = {IMG_PAYLOAD: {"fairness": twin_fairness(shift=0.1, sex=payload_sex)}}
    results["attribution"] = attribution_results([SCRIPT_PAYLOAD, IMG_PAYLOAD, "age"])
    results["benchmarks"]["rows"][0]["name"] = IMG_PAYLOAD
    return results


# ---------------------------------------------------------------------------------------------
# Checks of the rendered HTML


class TagBalance(HTMLParser):
    """A strict tag-balance check: every non-void element closed, in order."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.ids += [value for key, value in attrs if key == "id"]
        self.attributes += [(tag, key, value) for key, value in attrs]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.ids += [value for key, value in attrs if key == "id"]  # <x/>: opened and closed
        self.attributes += [(tag, key, value) for key, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()


def assert_well_formed(html: str) -> list[str]:
    """Balanced tags, unique ids, parseable as XML; returns the element ids."""
    checker = TagBalance()
    checker.feed(html)
    checker.close()
    assert not checker.errors, checker.errors[:5]
    assert not checker.stack, checker.stack
    duplicates = {i for i in checker.ids if checker.ids.count(i) > 1}
    assert not duplicates, duplicates
    ElementTree.fromstring(html.removeprefix("<!DOCTYPE html>"))  # XHTML-compatible
    return checker.ids


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def assert_self_contained(html: str) -> None:
    """No attribute that could make a request: only in-page fragment links and patterns."""
    checker = TagBalance()
    checker.feed(html)
    for tag, name, value in checker.attributes:
        assert name not in ("src", "srcset", "data", "action", "poster", "background"), tag
        if name in ("href", "xlink:href"):
            assert value.startswith("#"), (tag, value)
        if "url(" in (value or ""):
            assert re.fullmatch(r"url\(#[\w-]+\)", value), (tag, name, value)
    styles = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    assert styles and not any("@import" in css or "url(" in css for css in styles)
