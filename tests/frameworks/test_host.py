"""Hosted twins (twinaudit.frameworks.host): a twin whose primitives run in a child process.

Hosting is checked on the backend this process already has (TensorFlow), where a hosted twin
must equal the in-process twin to the last bit: the same code on the same backend, so any
difference is the proxy's. The registry's ``keras[jax]`` is the same proxy on JAX.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import signal

import numpy as np
import pytest

from twinaudit.attribution.gradients import gradient_function
from twinaudit.audits.proof import EXACT_TOLERANCE, prove
from twinaudit.errors import InputError
from twinaudit.frameworks import check_installed, load_twin, twin_class
from twinaudit.frameworks.host import HostedTwin, HostError, host_for, hosted_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import CNNNetwork, MLPNetwork
from twinaudit.vocabulary import FRAMEWORKS

NETWORK = MLPNetwork(n_inputs=6, hidden=(5,))
SCHEDULE = Schedule(epochs=2, batch_size=16, learning_rate=0.01)
TENSORFLOW = {"KERAS_BACKEND": "tensorflow"}


def hosted(cls: str = "twinaudit.frameworks.keras.twin:KerasTwin", name: str = "keras"):
    """A proxy class of ``cls`` on TensorFlow in a host process, named ``name``."""
    return hosted_class("Test", cls, TENSORFLOW, {"framework": name,
                                                  "checkpoint_suffix": ".keras"})


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def test_a_hosted_twin_trains_and_predicts_exactly_as_the_twin_in_this_process(data):
    X, y = data
    native = twin_class("keras")(NETWORK, SCHEDULE, random_state=3).fit(X, y, validation=(X, y))
    proxy = hosted()(NETWORK, SCHEDULE, random_state=3).fit(X, y, validation=(X, y))
    assert isinstance(proxy, HostedTwin)
    np.testing.assert_array_equal(proxy.decision_function(X), native.decision_function(X))
    for name, value in native.get_weights().items():
        np.testing.assert_array_equal(proxy.get_weights()[name], value)
    assert proxy.history_["best_epoch"] == native.history_["best_epoch"]
    # The compiled input gradients stay in the host and are called through a handle.
    for remote, here in zip(gradient_function(proxy)(X[:7]), gradient_function(native)(X[:7]),
                            strict=True):
        np.testing.assert_array_equal(remote, here)


needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="jax is not installed (pip install 'twinaudit[jax]')")


@pytest.mark.slow
@needs_jax
def test_a_hosted_twin_pickles_and_saves_as_plain_data(tmp_path, data):
    X, y = data
    proxy = twin_class("keras[jax]")(NETWORK, SCHEDULE, random_state=1).fit(X, y)
    # Rebuilt by its implementation's name: in a process on JAX it would be the Keras twin.
    again = pickle.loads(pickle.dumps(proxy))
    assert type(again) is type(proxy)
    np.testing.assert_array_equal(again.forward(X), proxy.forward(X))
    path = proxy.save(tmp_path / "twin")
    loaded = load_twin(path)
    assert loaded.framework == "keras[jax]"
    np.testing.assert_array_equal(loaded.forward(X), proxy.forward(X))
    assert twin_class("keras[jax]").environment() == {"keras_backend": "jax"}


def test_an_error_in_the_host_is_raised_here_with_its_own_type_and_message():
    cnn = CNNNetwork(filters=(2,), hidden=(4,), n_outputs=3)
    twin = hosted()(cnn, SCHEDULE).initialize()
    with pytest.raises(ValueError, match="implemented for dense networks"):
        twin.clipped_gradient_sum(np.zeros((2, 8, 8, 1), np.float32), np.zeros(2, np.int64), 1.0)


@pytest.mark.slow
def test_a_host_that_dies_is_one_clear_error_and_the_next_twin_gets_a_new_one(data):
    X, _ = data
    twin = hosted()(NETWORK, SCHEDULE).initialize()
    host = host_for(TENSORFLOW)
    os.kill(host._process.pid, signal.SIGKILL)
    host._process.wait()
    with pytest.raises(HostError, match="host process exited"):
        twin.forward(X)
    fresh = hosted()(NETWORK, SCHEDULE).initialize()
    assert host_for(TENSORFLOW) is not host
    assert fresh.forward(X).shape == (len(X), 2)


def test_the_proof_passes_a_hosted_twin_and_fails_a_hosted_fault(data):
    X, y = data
    classes = {"keras": twin_class("keras"), "hosted": hosted(),
               "faulty": hosted("mutant_twins:LearningRateOffKerasTwin")}
    passed = prove(NETWORK, SCHEDULE, 0, X_test=X, train=(X, y, None),
                   frameworks=("keras", "hosted"), build=classes.__getitem__)
    assert all(stage["max"] == 0.0 for stage in passed["exact"].values())
    failed = prove(NETWORK, SCHEDULE, 0, X_test=X, train=(X, y, None),
                   frameworks=("keras", "faulty"), build=classes.__getitem__)
    assert failed["exact"]["outputs"]["passed"] and failed["exact"]["gradients"]["passed"]
    assert failed["exact"]["one_step"]["max"] > 100 * EXACT_TOLERANCE


def test_keras_on_another_backend_is_hosted_and_on_this_one_is_not():
    assert issubclass(twin_class("keras[tensorflow]"), twin_class("keras"))
    jax = twin_class("keras[jax]")
    assert issubclass(jax, HostedTwin) and jax.framework == "keras[jax]"
    assert jax.host_environment == {"KERAS_BACKEND": "jax"}
    assert twin_class("keras[jax]") is jax  # one class per name and process


def test_a_listed_backend_whose_package_is_missing_stops_the_run_naming_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "jax" else real(name, *args))
    with pytest.raises(InputError) as raised:
        check_installed(["torch", "keras[jax]"], "audit.toml")
    assert str(raised.value) == ("audit.toml: training.frameworks: keras[jax] needs the jax "
                                 "package (pip install 'twinaudit[jax]')")
    check_installed(list(FRAMEWORKS), "audit.toml")  # nothing to install
