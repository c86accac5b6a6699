"""What every network spec derives from its layer list: parameter names and shapes, their
count, the numpy initial weights, and the dropout-free variant."""

import numpy as np

from twinaudit.nets import CNNNetwork, MLPNetwork, initial_weights

MLP = MLPNetwork(n_inputs=3, hidden=(4,))
# conv 3x3 on 8x8x1 -> 6x6x4, pool 2 -> 3x3x4, flatten -> 36, dense 16, dense 10
CNN = CNNNetwork(image_shape=(8, 8, 1), filters=(4,), kernel_size=3, pool_size=2, hidden=(16,),
              n_outputs=10)


def test_parameter_names_and_shapes_are_the_canonical_keras_layout_in_layer_order():
    assert list(MLP.parameter_shapes().items()) == [
        ("dense_0.kernel", (3, 4)), ("dense_0.bias", (4,)),
        ("dense_1.kernel", (4, 2)), ("dense_1.bias", (2,))]
    assert list(CNN.parameter_shapes().items()) == [
        ("conv_0.kernel", (3, 3, 1, 4)), ("conv_0.bias", (4,)),
        ("dense_0.kernel", (36, 16)), ("dense_0.bias", (16,)),
        ("dense_1.kernel", (16, 10)), ("dense_1.bias", (10,))]
    # Layers are named by type and index among layers of their type, with their input shape.
    assert [(named.name, named.input_shape) for named in CNN.named_layers()] == [
        ("conv_0", (8, 8, 1)), ("pool_0", (6, 6, 4)), ("flatten_0", (3, 3, 4)),
        ("dense_0", (36,)), ("dense_1", (16,))]
    assert MLP.output_size == 2 and CNN.output_size == 10


def test_n_parameters_by_hand():
    # 3·4 + 4 + 4·2 + 2
    assert MLP.n_parameters == 26
    # 5·8 + 8 + 8·3 + 3 + 3·2 + 2
    assert MLPNetwork(n_inputs=5, hidden=(8, 3)).n_parameters == 83
    # 3·3·1·4 + 4 + 36·16 + 16 + 16·10 + 10
    assert CNN.n_parameters == 40 + 592 + 170


def test_initial_weights_are_deterministic_per_seed_and_differ_across_seeds():
    first, again, other = (initial_weights(MLP, seed) for seed in (0, 0, 1))
    assert {name: value.shape for name, value in first.items()} == MLP.parameter_shapes()
    assert list(first) == list(MLP.parameter_shapes())
    for name, value in first.items():
        assert value.dtype == np.float32, name
        np.testing.assert_array_equal(value, again[name], err_msg=name)
    for name in ("dense_0.kernel", "dense_1.kernel"):
        assert not np.array_equal(first[name], other[name]), name
        # Glorot-uniform: within ±sqrt(6 / (fan_in + fan_out)).
        fan_in, fan_out = first[name].shape
        assert np.abs(first[name]).max() <= np.sqrt(6 / (fan_in + fan_out))
    for name in ("dense_0.bias", "dense_1.bias"):
        assert not first[name].any() and not other[name].any(), name


def test_without_dropout_drops_only_the_dropout():
    dropped = MLPNetwork(n_inputs=3, hidden=(4, 4), activation="tanh", dropout=0.5, l2=0.01)
    plain = dropped.without_dropout()
    assert dropped.has_dropout and not plain.has_dropout
    assert plain == MLPNetwork(n_inputs=3, hidden=(4, 4), activation="tanh", dropout=0.0, l2=0.01)
    assert [layer.kind for layer in dropped.layers()] == [
        "dense", "dropout", "dense", "dropout", "dense"]
    assert [layer.kind for layer in plain.layers()] == ["dense", "dense", "dense"]
    # Dropout has no parameters and draws none: both start from the same weights.
    assert plain.parameter_shapes() == dropped.parameter_shapes()
    for name, value in initial_weights(dropped, 3).items():
        np.testing.assert_array_equal(value, initial_weights(plain, 3)[name])
    # A network without dropout is its own dropout-free variant.
    assert not CNN.has_dropout and CNN.without_dropout() is CNN
    assert not MLPNetwork(n_inputs=3, dropout=0.0).has_dropout
