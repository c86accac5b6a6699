"""The shared estimator (``twinaudit.frameworks.base.Twin``): scikit-learn's contract, input
checks before any training, and what a twin answers depends on its network's task."""

import numpy as np
import pytest
from sklearn.base import clone, is_classifier

from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import AutoencoderNetwork, MLPNetwork
from twinaudit.vocabulary import FRAMEWORKS

NETWORK = MLPNetwork(n_inputs=3, hidden=(4,))
SCHEDULE = Schedule(epochs=2, batch_size=8, learning_rate=0.01)


def rows(n: int = 10):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 2, n)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_get_params_gives_the_constructor_arguments(framework):
    twin = twin_class(framework)(NETWORK, SCHEDULE, random_state=7)
    assert twin.get_params() == {"network": NETWORK, "schedule": SCHEDULE, "random_state": 7,
                                 "precision": "float32"}
    twin.set_params(random_state=8)
    assert twin.random_state == 8 and twin.get_params()["random_state"] == 8


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_clone_keeps_the_parameters_and_leaves_the_fitted_state_behind(framework):
    twin = twin_class(framework)(NETWORK, SCHEDULE, random_state=7).initialize()
    assert hasattr(twin, "classes_")
    copy = clone(twin)
    assert copy is not twin and type(copy) is type(twin)
    assert copy.get_params() == twin.get_params()
    assert copy.network == NETWORK and copy.schedule == SCHEDULE
    assert not hasattr(copy, "classes_") and not hasattr(copy, "n_features_in_")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_fit_rejects_rows_and_labels_of_different_lengths(framework):
    X, y = rows()
    with pytest.raises(ValueError, match="same number of rows"):
        twin_class(framework)(NETWORK, SCHEDULE).fit(X, y[:-1])


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("weights, expected", [
    (lambda n: np.r_[np.ones(n - 1), -0.5], "finite and non-negative"),
    (lambda n: np.r_[np.ones(n - 1), np.nan], "finite and non-negative"),
    (lambda n: np.ones(n - 1), "one entry per row"),
], ids=["negative", "not_finite", "one_short"])
def test_fit_rejects_bad_sample_weights_before_training(framework, weights, expected):
    X, y = rows()
    twin = twin_class(framework)(NETWORK, SCHEDULE)
    with pytest.raises(ValueError, match=expected):
        twin.fit(X, y, sample_weight=weights(len(y)))
    assert not hasattr(twin, "history_")  # refused before any training


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_reconstruction_twin_is_no_classifier_and_a_classification_twin_is(framework):
    autoencoder = twin_class(framework)(AutoencoderNetwork(n_inputs=3, hidden=(2,))).initialize()
    for method in ("predict_proba", "predict", "score"):
        assert not hasattr(autoencoder, method), method
    assert not is_classifier(autoencoder)
    assert not hasattr(autoencoder, "classes_")
    mlp = twin_class(framework)(NETWORK).initialize()
    for method in ("predict_proba", "predict", "score"):
        assert hasattr(mlp, method), method
    assert is_classifier(mlp)
    np.testing.assert_array_equal(mlp.classes_, [0, 1])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_task_decides_what_the_twin_answers(framework, case):
    name, network, dataset = case
    twin = twin_class(framework)(network, random_state=0).initialize()
    X = dataset.test.X[:20]
    if name == "autoencoder":
        # decision_function: each row's mean squared reconstruction error.
        expected = ((twin.forward(X).astype(np.float64) - X) ** 2).mean(axis=1)
        np.testing.assert_allclose(twin.decision_function(X), expected, rtol=1e-12)
        # No classifier: predict_proba, predict and score are not there at all (available_if),
        # and scikit-learn does not take it for one.
        for method in ("predict_proba", "predict", "score"):
            assert not hasattr(twin, method)
            with pytest.raises(AttributeError, match=method):
                getattr(twin, method)(X)
        assert not is_classifier(twin)
    else:
        assert is_classifier(twin)
        probabilities = twin.predict_proba(X)
        assert probabilities.shape == (20, dataset.n_classes)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-9)
        np.testing.assert_array_equal(twin.classes_, np.arange(dataset.n_classes))


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_twins_are_scikit_learn_classifiers(framework, small_dataset):
    network = MLPNetwork(n_inputs=small_dataset.train.X.shape[1], hidden=(8,))
    twin = twin_class(framework)(network, Schedule(epochs=3, learning_rate=0.01), random_state=1)
    copy = clone(twin)
    assert copy.get_params()["random_state"] == 1 and copy is not twin
    copy.fit(small_dataset.train.X, small_dataset.train.y)
    probabilities = copy.predict_proba(small_dataset.test.X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-9)
    np.testing.assert_array_equal(copy.predict(small_dataset.test.X),
                                  probabilities.argmax(axis=1))
    # Better than always predicting the majority class (about 0.76 on Adult).
    assert 0.78 < copy.score(small_dataset.test.X, small_dataset.test.y) <= 1.0


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_float64_twin_computes_in_float64_and_an_unknown_precision_is_refused(framework):
    twin = twin_class(framework)(NETWORK, SCHEDULE, precision="float64").initialize()
    assert {value.dtype for value in twin.get_weights().values()} == {np.dtype(np.float64)}
    assert twin.forward(np.zeros((2, NETWORK.input_shape[0]))).dtype == np.float64
    with pytest.raises(ValueError, match="precision must be one of float32, float64"):
        twin_class(framework)(NETWORK, precision="float16").initialize()


def test_a_twin_without_a_network_says_so():
    with pytest.raises(ValueError, match=r"network=\.\.\.\) is required"):
        twin_class(FRAMEWORKS[0])().initialize()


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("planted", ["checkpoint", "sidecar"])
def test_saving_never_writes_through_a_planted_symlink(framework, planted, tmp_path):
    from twinaudit.errors import InputError

    twin = twin_class(framework)(MLPNetwork(n_inputs=3, hidden=(2,)), random_state=0).initialize()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "models"
    folder.mkdir()
    checkpoint = (folder / "seed0").with_suffix(type(twin).checkpoint_suffix)
    link = checkpoint if planted == "checkpoint" else checkpoint.with_suffix(".json")
    link.symlink_to(victim)
    with pytest.raises(InputError, match="symbolic link"):
        twin.save(folder / "seed0")
    assert victim.read_text() == "precious"
    # Nothing half-written beside it: no temporary file, and the other file not written.
    assert sorted(path.name for path in folder.iterdir()) == [link.name]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_saving_replaces_a_checkpoint_whole_and_leaves_no_temporary_file(framework, tmp_path):
    network = MLPNetwork(n_inputs=3, hidden=(2,))
    first = twin_class(framework)(network, random_state=0).initialize()
    second = twin_class(framework)(network, random_state=1).initialize()
    path = first.save(tmp_path / "seed0")
    second.save(tmp_path / "seed0")
    from twinaudit.frameworks import load_twin

    loaded = load_twin(path)
    for name, value in second.get_weights().items():
        np.testing.assert_array_equal(loaded.get_weights()[name], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, "seed0.json"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("damage, message", [
    (lambda weights, sidecar: weights.write_bytes(weights.read_bytes()[:64]),
     "not a usable .* checkpoint"),
    (lambda weights, sidecar: weights.write_bytes(b""), "not a usable .* checkpoint"),
    (lambda weights, sidecar: weights.unlink(), "checkpoint not found"),
    (lambda weights, sidecar: sidecar.unlink(), "description is missing"),
    (lambda weights, sidecar: sidecar.write_text("{not json"), "not a twin's description"),
    (lambda weights, sidecar: sidecar.write_text('{"framework": "mxnet"}'),
     "names no known framework"),
])
def test_a_damaged_checkpoint_is_one_line_naming_the_file(framework, damage, message, tmp_path):
    from twinaudit.errors import InputError
    from twinaudit.frameworks import load_twin

    twin = twin_class(framework)(MLPNetwork(n_inputs=3, hidden=(2,)), random_state=0).initialize()
    weights = twin.save(tmp_path / "seed0")
    damage(weights, weights.with_suffix(".json"))
    with pytest.raises(InputError, match=message) as raised:
        load_twin(weights)
    assert str(tmp_path) in str(raised.value) and "\n" not in str(raised.value)
