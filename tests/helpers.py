"""Helpers shared by several test modules (not a test module: nothing here is collected).

Test modules import from here, never from each other or from conftest.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from twinaudit.data import load_dataset
from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule, batch_weights
from twinaudit.nets import MLPNetwork, Network, initial_weights
from twinaudit.nets.layers import Layer
from twinaudit.pipeline import network_for
from twinaudit.spec import load_spec
from twinaudit.vocabulary import FRAMEWORKS

#: The repository's root (audits/, reports/baseline/ ...).
REPO = Path(__file__).resolve().parents[1]

SMALL_AUDIT = """
[audit]
name = "{name}"

[data]
dataset = "adult"
sensitive_features = ["sex", "race"]
max_train_rows = {train_rows}
max_test_rows = {test_rows}

[network]
hidden = [16, 8]

[training]
seeds = {seeds}
epochs = {epochs}
batch_size = 128

[attribution]
n_rows = 200
"""


def write_small_audit(folder: Path, *, name: str = "small", train_rows: int = 1500,
                      test_rows: int = 800, seeds: str = "[0, 1]", epochs: int = 2) -> Path:
    """A small Adult audit (seconds to run) written as ``folder/<name>.toml``."""
    path = folder / f"{name}.toml"
    path.write_text(SMALL_AUDIT.format(name=name, train_rows=train_rows, test_rows=test_rows,
                                       seeds=seeds, epochs=epochs))
    return path


#: Figures that differ between two runs of the same audit whatever they compute: timings,
#: where and how the run executed, the cache's hit or miss.
RUN_SPECIFIC = {"run_seconds", "environment", "audit", "cache", "command", "samples_s",
                "seconds", "train_seconds_total", "execution"}


def without_run_specifics(node, also: tuple[str, ...] = ()):
    """A results document without :data:`RUN_SPECIFIC` (and the keys ``also`` names), for
    comparing two runs."""
    if isinstance(node, dict):
        return {key: without_run_specifics(value, also) for key, value in node.items()
                if key not in RUN_SPECIFIC and key not in also}
    if isinstance(node, list):
        return [without_run_specifics(value, also) for value in node]
    return node


def small_copy(name: str, folder: Path) -> Path:
    """The shipped audit on 300 training and 200 test rows, two seeds, two epochs."""
    text = (REPO / "audits" / f"{name}.toml").read_text()
    text = text.replace("[data]\n", "[data]\nmax_train_rows = 300\nmax_test_rows = 200\n", 1)
    text = re.sub(r"seeds = \[.*\]", "seeds = [0, 1]", text)
    text = re.sub(r"epochs = \d+", "epochs = 2", text)
    text = re.sub(r"n_resamples = \d+", "n_resamples = 50", text)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------
# The shipped audits on small subsets of their data


def shipped_spec(name: str, **data):
    """The shipped audit ``audits/<name>.toml`` with ``[data]`` settings replaced."""
    spec = load_spec(REPO / "audits" / f"{name}.toml")
    return dataclasses.replace(spec, data=dataclasses.replace(spec.data, **data))


def network_case(name: str):
    """``(name, network, dataset)``: the shipped audit's network and data set, on 600 training
    and 300 test rows."""
    spec = shipped_spec(name, max_train_rows=600, max_test_rows=300)
    dataset = load_dataset(spec)
    return name, network_for(spec, dataset), dataset


def attribution_case(name: str, *, train_rows: int = 300, test_rows: int = 60):
    """``(spec, dataset, network)``: the shipped audit on a small subset, for attribution."""
    spec = shipped_spec(name, max_train_rows=train_rows, max_test_rows=test_rows)
    dataset = load_dataset(spec)
    return spec, dataset, network_for(spec, dataset)


# ---------------------------------------------------------------------------------------------
# Twins built from given weights


def built_twin(framework, network, weights=None, random_state=0):
    """An initialised (untrained) twin, loaded with ``weights`` when given."""
    twin = twin_class(framework)(network, random_state=random_state).initialize()
    if weights is not None:
        twin.set_weights(weights)
    return twin


def twins_of(network, seeds=(0,), *, scale: dict[str, float] | None = None) -> dict:
    """Initialised twins of every framework and seed; ``scale`` multiplies named parameters
    (untrained weights are tiny, so larger ones make the comparison mean something)."""
    twins = {}
    for seed in seeds:
        weights = initial_weights(network, seed)
        for name, factor in (scale or {}).items():
            weights[name] = weights[name] * np.float32(factor)
        for framework in FRAMEWORKS:
            twins[framework, seed] = built_twin(framework, network, weights, random_state=seed)
    return twins


def log_odds(twin, X):
    """z1 − z0 of a binary classifier twin, in float64."""
    logits = twin.decision_function(X).astype(np.float64)
    return logits[:, 1] - logits[:, 0]


# ---------------------------------------------------------------------------------------------
# Small networks with hand-set weights (the hand-worked answers are in the tests using them)


#: f = z1 − z0 = x · (w₁ − w₀) + const: its gradient is (2, −3, 0) everywhere.
LINEAR_NETWORK = MLPNetwork(n_inputs=3, hidden=())
LINEAR_WEIGHTS = {
    "dense_0.kernel": np.array([[1.0, 3.0], [2.0, -1.0], [0.5, 0.5]], dtype=np.float32),
    "dense_0.bias": np.array([0.3, -0.2], dtype=np.float32),
}

#: One hidden ReLU unit h = relu(x₁ + x₂ − 1), and z1 − z0 = 2h.
RELU_NETWORK = MLPNetwork(n_inputs=2, hidden=(1,))
RELU_WEIGHTS = {
    "dense_0.kernel": np.array([[1.0], [1.0]], dtype=np.float32),
    "dense_0.bias": np.array([-1.0], dtype=np.float32),
    "dense_1.kernel": np.array([[-1.0, 1.0]], dtype=np.float32),
    "dense_1.bias": np.array([0.0, 0.0], dtype=np.float32),
}


# ---------------------------------------------------------------------------------------------
# One training step read back as an update


#: With a huge epsilon (and a matching learning rate) Adam's first step is −g·1e3/(|g| + 1e3):
#: the update follows the gradient itself, not just its sign, so weighting can be checked.
GRADIENT_SCHEDULE = Schedule(learning_rate=1e3, epsilon=1e3)


def gradient_like_update(framework, X, y, weights):
    """The weights' change after one step of ``GRADIENT_SCHEDULE`` (about the gradient) on an
    8-unit MLP, rows weighted by ``weights``."""
    network = MLPNetwork(n_inputs=X.shape[1], hidden=(8,))
    twin = twin_class(framework)(network, GRADIENT_SCHEDULE, random_state=3).initialize()
    before = twin.get_weights()
    twin.train_step(X, y, batch_weights(np.asarray(weights, np.float32)))
    return {name: value - before[name] for name, value in twin.get_weights().items()}


def assert_same_update(first, second, rtol=1e-5):
    for name in first:
        np.testing.assert_allclose(first[name], second[name], rtol=rtol,
                                   atol=1e-6 * np.abs(first[name]).max(), err_msg=name)


# ---------------------------------------------------------------------------------------------
# A network made of given layers


@dataclass(frozen=True)
class LayerStack(Network):
    """A network that is just the given layers (for testing them one at a time)."""

    shape: tuple[int, ...]
    stack: tuple[Layer, ...]
    dtype: str = "float32"
    kind: ClassVar[str] = "test"

    @property
    def input_shape(self):
        return self.shape

    @property
    def input_dtype(self):
        return self.dtype

    def layers(self):
        return list(self.stack)


# ---------------------------------------------------------------------------------------------
# Public tabular data sets other than Adult, through the generic CSV entry

#: Where the shared copy of ProPublica's COMPAS file lies beside the repository, when it does.
COMPAS_CSV = REPO.parent / "shared" / "datasets" / "compas" / "compas-scores-two-years.csv"


def compas_arrays(train_rows: int):
    """ProPublica's COMPAS file as arrays for training a small network: standardised
    criminal-history features (race is not an input), the two-year label and race (African-
    American or Caucasian) as the group; ``train_rows`` seeded rows for training, the rest
    for testing. ``(X, y, race)`` of each split, in that order."""
    import pandas as pd

    frame = pd.read_csv(COMPAS_CSV)
    frame = frame[frame["race"].isin(["African-American", "Caucasian"])]
    X = np.column_stack([frame["age"], frame["priors_count"], frame["juv_fel_count"],
                         frame["juv_misd_count"], frame["c_charge_degree"] == "F",
                         frame["sex"] == "Male"]).astype(np.float32)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:train_rows], order[train_rows:]
    y, race = frame["two_year_recid"].to_numpy(), frame["race"].to_numpy()
    return X[train], y[train], race[train], X[test], y[test], race[test]

PUBLIC_AUDIT = """
[audit]
name = "{name}"
description = "{description}"

[data]
dataset = "csv"
path = "{csv}"
label = "{label}"
positive = "1"
sensitive_features = {sensitive}
{data}
[network]
hidden = [16]

[training]
seeds = [0, 1, 2]
epochs = {epochs}
batch_size = 64

[fairness]
n_resamples = 200

[attribution]
n_rows = 100
{extra}"""


def diabetes_frame():
    """scikit-learn's diabetes data (Efron et al. 2004; 442 patients, shipped with
    scikit-learn): label 1 when disease progression is above the median; sex is the group."""
    import pandas as pd
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    frame = pd.DataFrame(bunch.data, columns=bunch.feature_names)
    frame["sex"] = frame["sex"].map({1.0: "a", 2.0: "b"})  # the data codes sex as 1 and 2
    frame["progression"] = (bunch.target > np.median(bunch.target)).astype(int)
    return frame


def breast_cancer_frame():
    """scikit-learn's Wisconsin breast cancer data (569 cases, shipped with scikit-learn):
    label 1 for malignant. It records no demographics, so the group is a clinical stand-in —
    the tumour's mean texture above or below its median — not a sensitive attribute."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    frame = pd.DataFrame(bunch.data, columns=[c.replace(" ", "_") for c in bunch.feature_names])
    frame["texture_group"] = np.where(frame["mean_texture"] > frame["mean_texture"].median(),
                                      "high", "low")
    frame["malignant"] = (bunch.target == 0).astype(int)
    return frame


#: name -> (frame builder or None for COMPAS's own file, label, sensitive features, epochs,
#: description, more TOML, more [data] keys)
PUBLIC_TABULAR = {
    # ProPublica's file as it is (it repeats decile_score and priors_count): their filters and
    # the defendant's history chosen with a keep-list. Race has groups of 31 and 11 rows, too
    # few for per-group thresholds or weights: mitigation is by sex (the run says so before
    # training otherwise).
    "compas": (None, "two_year_recid", ["race", "sex"], 10,
               "ProPublica COMPAS two-year recidivism, history features", """
[mitigation]
reweigh_on = ["sex"]
""", """features = ["age", "juv_fel_count", "juv_misd_count", "juv_other_count", "c_charge_degree"]
filters = [
  {column = "days_b_screening_arrest", op = ">=", value = -30},
  {column = "days_b_screening_arrest", op = "<=", value = 30},
  {column = "is_recid", op = "!=", value = -1},
  {column = "c_charge_degree", op = "!=", value = "O"},
  {column = "score_text", op = "!=", value = "N/A"},
]
"""),
    "diabetes": (diabetes_frame, "progression", ["sex"], 20,
                 "scikit-learn diabetes, progression above the median", "", ""),
    "breast_cancer": (breast_cancer_frame, "malignant", ["texture_group"], 20,
                      "scikit-learn breast cancer, grouped by tumour texture", "", ""),
}


def write_public_audit(name: str, folder: Path) -> Path:
    """``folder/audits/<name>.toml`` (and ``folder/data/<name>.csv``) for a public data set."""
    build, label, sensitive, epochs, description, extra, data_keys = PUBLIC_TABULAR[name]
    (folder / "audits").mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    if build is None:
        csv = str(COMPAS_CSV)
    else:
        build().to_csv(folder / "data" / f"{name}.csv", index=False)
        csv = f"../data/{name}.csv"
    path = folder / "audits" / f"{name}.toml"
    path.write_text(PUBLIC_AUDIT.format(
        name=name, description=description, csv=csv, label=label,
        sensitive="[" + ", ".join(f'"{column}"' for column in sensitive) + "]",
        epochs=epochs, extra=extra, data=data_keys))
    return path



def check_intervals(document) -> tuple[int, list[str]]:
    """Every ``{"value": x, "ci": [low, high]}`` anywhere in a results document: how many there
    are, and those whose interval does not contain its estimate (``path: value outside ci``)."""
    failures: list[str] = []
    checked = 0

    def walk(node, path):
        nonlocal checked
        if isinstance(node, dict):
            value, interval = node.get("value"), node.get("ci")
            if (isinstance(value, (int, float)) and not isinstance(value, bool)
                    and isinstance(interval, list) and len(interval) == 2):
                checked += 1
                if not interval[0] - 1e-9 <= value <= interval[1] + 1e-9:
                    failures.append(f"{path}: {value} outside {interval}")
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}[{index}]")

    walk(document, "")
    return checked, failures


def prediction_rows(min_rows: int, max_rows: int, groups: str, *more):
    """A hypothesis strategy for audit inputs of n rows: 0/1 labels, 0/1 predictions, a group
    (one letter of ``groups``) and a score in [0, 1] per row, then one draw of each of ``more``
    (a strategy, or a function of n giving one, for per-row extras such as weights)."""
    from hypothesis import strategies as st

    def of_size(n_rows: int):
        def per_row(element):
            return st.lists(element, min_size=n_rows, max_size=n_rows)

        extras = [extra(n_rows) if callable(extra) else extra for extra in more]
        return st.tuples(per_row(st.integers(0, 1)), per_row(st.integers(0, 1)),
                         per_row(st.sampled_from(groups)), per_row(st.floats(0, 1)), *extras)

    return st.integers(min_value=min_rows, max_value=max_rows).flatmap(of_size)


def numeric_differences(rows, counts, path=""):
    """Every value of two audits (a row audit and a count audit) that differs beyond float
    rounding, as (path, one, other); and the ROC AUCs' differences (binned in the counts)."""
    found, auc = [], []
    if isinstance(rows, dict):
        assert rows.keys() == counts.keys(), path
        for key in rows:
            more, more_auc = numeric_differences(rows[key], counts[key], f"{path}.{key}")
            found += more
            auc += more_auc
    elif isinstance(rows, list):
        assert len(rows) == len(counts), path
        for index, (first, second) in enumerate(zip(rows, counts, strict=True)):
            more, more_auc = numeric_differences(first, second, f"{path}[{index}]")
            found += more
            auc += more_auc
    elif isinstance(rows, float) and isinstance(counts, float):
        if path.endswith("roc_auc"):
            auc.append(abs(rows - counts))
        elif not math.isclose(rows, counts, rel_tol=1e-9, abs_tol=1e-12):
            found.append((path, rows, counts))
    elif rows != counts:
        found.append((path, rows, counts))
    return found, auc
