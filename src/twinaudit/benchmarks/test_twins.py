"""Speed and accuracy of each twin, next to the plainest code a user would write.

For each framework: full training (twin vs a hand-written torch loop / Keras ``model.fit``,
same data, epochs, batch size and initial weights), one epoch, one training step, inference
latency at batch 1 and throughput at batch 1,024, and time-to-accuracy. Every row records the
accuracy its model reached and the process's peak memory. A twin and its plain baseline run in
the same process, one after the other, so their ratio is measured side by side.

Run one framework per process (``twinaudit bench`` does) so thread pools do not interfere:
``TWINAUDIT_BENCH_FRAMEWORKS=torch pytest src/twinaudit/benchmarks --benchmark-only``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import cast

import numpy as np
import pytest

from twinaudit.benchmarks.fixtures import accuracy_of, base_framework, bench_frameworks, record
from twinaudit.families import family_of
from twinaudit.frameworks.schedule import Schedule, batch_order, batch_weights
from twinaudit.nets import MLPNetwork, initial_weights

pytestmark = pytest.mark.parametrize("framework", bench_frameworks())


# -- the plain baselines ------------------------------------------------------------------


class PlainTorch:
    """A hand-written torch loop: randperm, tensor indexing, torch.optim.Adam."""

    framework = "torch"

    def __init__(self, network: MLPNetwork, schedule: Schedule, weights: dict):
        import torch
        from torch import nn

        self.torch = torch
        widths = network.widths
        layers: list[nn.Module] = []
        for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(nn.Linear(fan_in, fan_out))
            if index < len(widths) - 2:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        with torch.no_grad():
            # torch types a slice of a Sequential as Sequential | Module; every other module is
            # a Linear.
            for index, linear in enumerate(cast(Iterable[nn.Linear], self.model[::2])):
                linear.weight.copy_(torch.from_numpy(weights[f"dense_{index}.kernel"].T.copy()))
                linear.bias.copy_(torch.from_numpy(weights[f"dense_{index}.bias"]))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=schedule.learning_rate,
                                          eps=schedule.epsilon)
        self.batch_size = schedule.batch_size

    def step(self, X, y):
        self.optimizer.zero_grad()
        self.torch.nn.functional.cross_entropy(self.model(X), y).backward()
        self.optimizer.step()

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int):
        inputs, targets = self.torch.from_numpy(X), self.torch.from_numpy(y)
        for _ in range(epochs):
            order = self.torch.randperm(len(targets))
            for start in range(0, len(targets), self.batch_size):
                rows = order[start:start + self.batch_size]
                self.step(inputs[rows], targets[rows])
        return self

    def logits(self, X: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            return self.model(self.torch.from_numpy(X)).numpy()


class PlainKeras:
    """``model.compile`` + ``model.fit``, Keras' own defaults apart from the shared settings."""

    framework = "keras"

    def __init__(self, network: MLPNetwork, schedule: Schedule, weights: dict):
        import keras

        self.keras = keras
        layers = [keras.Input((network.n_inputs,))]
        for width in network.hidden:
            layers.append(keras.layers.Dense(width, activation="relu"))
        layers.append(keras.layers.Dense(network.n_outputs))
        self.model = keras.Sequential(layers)
        self.model.set_weights(list(weights.values()))
        self.model.compile(optimizer=keras.optimizers.Adam(schedule.learning_rate),
                           loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        self.batch_size = schedule.batch_size

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int):
        self.model.fit(X, y, batch_size=self.batch_size, epochs=epochs, shuffle=True, verbose=0)
        return self

    def step(self, X, y):
        self.model.train_on_batch(X, y)

    def logits(self, X: np.ndarray) -> np.ndarray:
        return self.keras.ops.convert_to_numpy(self.model(X, training=False))


#: The plain reference of each framework, by the framework it is written in.
PLAIN = {plain.framework: plain for plain in (PlainTorch, PlainKeras)}


def twin_class(framework):
    from twinaudit.frameworks import twin_class as lookup

    return lookup(framework)


@pytest.fixture(scope="module")
def setting(audit_spec, dataset, profile):
    network = family_of("mlp").network(audit_spec.network, dataset)
    schedule = Schedule.from_section(audit_spec.training)
    return network, schedule


# -- full training: twin vs plain, the 1.15x target ------------------------------------------


@pytest.mark.parametrize("implementation", ["twin", "plain"])
def test_train(benchmark, framework, implementation, setting, dataset, profile):
    network, schedule = setting
    epochs = profile["train_epochs"]
    timed_schedule = Schedule(**{**vars(schedule), "epochs": epochs, "early_stopping": False})
    train, test = dataset.train, dataset.test
    weights = initial_weights(network, 0)

    def fit():
        if implementation == "twin":
            return twin_class(framework)(network, timed_schedule, random_state=0).fit(
                train.X, train.y)
        return PLAIN[base_framework(framework)](network, timed_schedule, weights).fit(
            train.X, train.y, epochs)

    benchmark.group = f"train {epochs} epochs ({framework})"
    model = benchmark.pedantic(fit, rounds=profile["train_rounds"], warmup_rounds=1)
    logits = model.decision_function(test.X) if implementation == "twin" else model.logits(test.X)
    record(benchmark, framework, accuracy=accuracy_of(logits, test.y),
           implementation=implementation, reference="plain" if implementation == "twin" else None,
           epochs=epochs, rows=len(train.y), batch_size=schedule.batch_size)


# -- one epoch and one step of a built, warmed-up model -------------------------------------


@pytest.fixture(scope="module")
def warm_twins(setting, dataset):
    network, schedule = setting
    twins = {}
    for framework in bench_frameworks():
        twin = twin_class(framework)(network, schedule, random_state=0).initialize()
        rows = batch_order(0, 0, len(dataset.train.y), schedule.batch_size)[0]
        twin.train_step(dataset.train.X[rows], dataset.train.y[rows],
                        np.ones(len(rows), np.float32))  # traces/compiles before timing
        twins[framework] = twin
    return twins


def test_epoch(benchmark, framework, warm_twins, setting, dataset, profile):
    twin, (_, schedule) = warm_twins[framework], setting
    X, y = dataset.train.X, dataset.train.y
    weights = np.ones(len(y), np.float32)
    epochs = iter(range(10**6))

    def one_epoch():
        for rows in batch_order(0, next(epochs), len(y), schedule.batch_size):
            twin.train_step(X[rows], y[rows], batch_weights(weights[rows]))

    benchmark.group = "epoch"
    benchmark.pedantic(one_epoch, rounds=profile["epoch_rounds"], warmup_rounds=1)
    record(benchmark, framework, implementation="twin",
           accuracy=accuracy_of(twin.decision_function(dataset.test.X), dataset.test.y))


def test_train_step(benchmark, framework, warm_twins, setting, dataset, profile):
    twin, (_, schedule) = warm_twins[framework], setting
    rows = batch_order(0, 1, len(dataset.train.y), schedule.batch_size)[1]
    X, y = dataset.train.X[rows], dataset.train.y[rows]
    weights = batch_weights(np.ones(len(rows), np.float32))
    benchmark.group = "train step"
    benchmark.pedantic(twin.train_step, args=(X, y, weights), rounds=profile["step_rounds"],
                       warmup_rounds=5)
    record(benchmark, framework, implementation="twin", accuracy=None,
           batch_size=schedule.batch_size)


# -- inference ------------------------------------------------------------------------------


def test_inference_latency_batch_1(benchmark, framework, warm_twins, dataset, profile):
    twin = warm_twins[framework]
    row = dataset.test.X[:1]
    benchmark.group = "inference latency, batch 1"
    benchmark.pedantic(twin.decision_function, args=(row,), rounds=profile["latency_rounds"],
                       warmup_rounds=10)
    samples = np.asarray(benchmark.stats.stats.data)
    record(benchmark, framework, implementation="twin",
           accuracy=accuracy_of(twin.decision_function(dataset.test.X), dataset.test.y),
           p99_s=float(np.percentile(samples, 99)))


def test_throughput_batch_1024(benchmark, framework, warm_twins, dataset, profile):
    twin = warm_twins[framework]
    rows = dataset.test.X[:1024]
    benchmark.group = "inference throughput, batch 1024"
    benchmark.pedantic(twin.decision_function, args=(rows,),
                       rounds=profile["throughput_rounds"], warmup_rounds=3)
    record(benchmark, framework, implementation="twin",
           accuracy=accuracy_of(twin.decision_function(dataset.test.X), dataset.test.y),
           rows_per_second=1024 / benchmark.stats.stats.median)


# -- time to accuracy -----------------------------------------------------------------------


def test_time_to_accuracy(benchmark, framework, setting, dataset, audit_spec):
    network, schedule = setting
    target = audit_spec.benchmarks.target_validation_accuracy
    validation = (dataset.validation.X, dataset.validation.y)

    def fit():
        return twin_class(framework)(network, schedule, random_state=0).fit(
            dataset.train.X, dataset.train.y, validation=validation)

    benchmark.group = "time to accuracy"
    twin = benchmark.pedantic(fit, rounds=1, warmup_rounds=0)
    elapsed, reached = 0.0, None
    for epoch in twin.history_["epochs"]:
        elapsed += epoch["seconds"]
        if epoch["validation_accuracy"] >= target:
            reached = elapsed
            break
    record(benchmark, framework, implementation="twin",
           accuracy=accuracy_of(twin.decision_function(dataset.test.X), dataset.test.y),
           target_validation_accuracy=target, seconds_to_target=reached,
           python=sys.version.split()[0])
