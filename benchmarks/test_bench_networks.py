"""Speed of the other reference networks' twins next to the plainest training code.

For each network (SimpleNet, the digits CNN, the sentiment LSTM, the Adult autoencoder) and
framework: full training of the twin (the shared schedule) against a plain loop on the very
same modules — a hand-written torch loop (``randperm``, tensor indexing, ``torch.optim.Adam``)
or Keras ``compile`` + ``fit`` with Keras' defaults — same data, epochs, batch size and
initial weights, one after the other in the same process, so ``ratio_to_plain`` (twin median
/ plain median, target ≤ 1.3) is measured side by side. The plain models are built by the
twins' own layer builders: only the training loop differs. The LSTM's inference throughput
(batch 1,024) is reported for both frameworks.

One framework per process keeps thread pools apart:
``TWINAUDIT_BENCH_FRAMEWORKS=torch pytest benchmarks/test_bench_networks.py --benchmark-only``;
``keras[jax]`` runs with ``KERAS_BACKEND=jax`` set, so its twin and ``model.fit`` both run on
JAX (``benchmarks/compare_backends.py`` does this for every Keras backend).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from twinaudit.benchmarks.fixtures import accuracy_of, base_framework, bench_frameworks, record
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import initial_weights

REPOSITORY = Path(__file__).resolve().parents[1]

NETWORKS = ["simplenet", "digits", "sentiment", "autoencoder"]
#: Rows and epochs of a timed training run, and rounds per measurement.
SETTINGS = {"train_rows": int(os.environ.get("TWINAUDIT_BENCH_NETWORK_ROWS", 4000)),
            "test_rows": 1000, "epochs": 2, "rounds": 3}
PLAIN_MEDIANS: dict[tuple[str, str], float] = {}

pytestmark = pytest.mark.parametrize("framework", bench_frameworks())


@pytest.fixture(scope="module", params=NETWORKS)
def setting(request):
    from twinaudit.data import load_dataset
    from twinaudit.pipeline import network_for
    from twinaudit.spec import load_spec

    spec = load_spec(REPOSITORY / "audits" / f"{request.param}.toml")
    spec = dataclasses.replace(spec, data=dataclasses.replace(
        spec.data, max_train_rows=SETTINGS["train_rows"], max_test_rows=SETTINGS["test_rows"]))
    dataset = load_dataset(spec)
    schedule = Schedule(**{**vars(Schedule.from_section(spec.training)),
                           "epochs": SETTINGS["epochs"], "early_stopping": False})
    return request.param, network_for(spec, dataset), schedule, dataset


class PlainTorch:
    """A hand-written torch loop over the twin's own modules."""

    framework = "torch"

    def __init__(self, network, schedule: Schedule, weights: dict):
        import torch

        from twinaudit.frameworks.torch.layers import build_modules, set_parameters

        self.torch, self.network = torch, network
        self.model, modules = build_modules(network)
        set_parameters(modules, weights)
        self.optimizer = torch.optim.Adam(
            [p for p in self.model.parameters() if p.requires_grad],
            lr=schedule.learning_rate, eps=schedule.epsilon)
        self.batch_size = schedule.batch_size

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int):
        torch = self.torch
        X, y = torch.from_numpy(X), torch.from_numpy(y)
        for _ in range(epochs):
            order = torch.randperm(len(y))
            for start in range(0, len(y), self.batch_size):
                rows = order[start:start + self.batch_size]
                output = self.model(X[rows])
                if self.network.task.target_is_input:
                    loss = torch.nn.functional.mse_loss(output, X[rows])
                else:
                    loss = torch.nn.functional.cross_entropy(output, y[rows])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        return self

    def logits(self, X: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            return self.model.eval()(self.torch.from_numpy(X)).numpy()


class PlainKeras:
    """``compile`` + ``fit`` with Keras' defaults, over the twin's own layers."""

    framework = "keras"

    def __init__(self, network, schedule: Schedule, weights: dict):
        import keras

        from twinaudit.frameworks.keras.layers import (
            build_layers,
            parameterised_layers,
            set_parameters,
        )

        self.keras, self.network = keras, network
        self.model = keras.Sequential(build_layers(network))
        set_parameters(parameterised_layers(self.model, network), weights)
        self.model.compile(
            optimizer=keras.optimizers.Adam(schedule.learning_rate),
            loss=(keras.losses.MeanSquaredError() if network.task.target_is_input
                  else keras.losses.SparseCategoricalCrossentropy(from_logits=True)))
        self.batch_size = schedule.batch_size

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int):
        target = X if self.network.task.target_is_input else y
        self.model.fit(X, target, batch_size=self.batch_size, epochs=epochs, shuffle=True,
                       verbose=0)
        return self

    def logits(self, X: np.ndarray) -> np.ndarray:
        return self.keras.ops.convert_to_numpy(self.model(X, training=False))


#: The plain reference of each framework, by the framework it is written in.
PLAIN = {plain.framework: plain for plain in (PlainTorch, PlainKeras)}


def twin_class(framework):
    from twinaudit.frameworks import twin_class as lookup

    return lookup(framework)


def quality(network, output: np.ndarray, dataset) -> dict:
    """Test accuracy, or for a reconstruction its mean squared error (accuracy None)."""
    if network.task.target_is_input:
        error = float(np.square(output.astype(np.float64) - dataset.test.X).mean())
        return {"accuracy": None, "reconstruction_error": error}
    return {"accuracy": accuracy_of(output, dataset.test.y)}


@pytest.mark.parametrize("implementation", ["plain", "twin"])
def test_train(benchmark, framework, implementation, setting):
    name, network, schedule, dataset = setting
    train = dataset.train
    weights = initial_weights(network, 0)

    def fit():
        if implementation == "twin":
            return twin_class(framework)(network, schedule, random_state=0).fit(train.X, train.y)
        return PLAIN[base_framework(framework)](network, schedule, weights).fit(
            train.X, train.y, schedule.epochs)

    benchmark.group = f"train {name} ({framework})"
    model = benchmark.pedantic(fit, rounds=SETTINGS["rounds"], warmup_rounds=1)
    median = benchmark.stats.stats.median
    extra = {}
    if implementation == "plain":
        PLAIN_MEDIANS[(name, framework)] = median
    elif (name, framework) in PLAIN_MEDIANS:
        extra["ratio_to_plain"] = median / PLAIN_MEDIANS[(name, framework)]
    output = model.forward(dataset.test.X) if implementation == "twin" else \
        model.logits(dataset.test.X)
    scores = quality(network, output, dataset)
    record(benchmark, framework, accuracy=scores.pop("accuracy"), implementation=implementation,
           network=name, epochs=schedule.epochs, rows=len(train.y),
           batch_size=schedule.batch_size, **scores, **extra)


@pytest.mark.parametrize("setting", ["sentiment"], indirect=True)
def test_lstm_inference_throughput_batch_1024(benchmark, framework, setting):
    name, network, schedule, dataset = setting
    twin = twin_class(framework)(network, schedule, random_state=0).initialize()
    rows = np.resize(dataset.test.X, (1024, dataset.test.X.shape[1]))
    benchmark.group = "LSTM inference throughput, batch 1024"
    benchmark.pedantic(twin.forward, args=(rows,), rounds=20, warmup_rounds=3)
    record(benchmark, framework, implementation="twin", network=name,
           accuracy=accuracy_of(twin.forward(dataset.test.X), dataset.test.y),
           rows_per_second=1024 / benchmark.stats.stats.median)
