"""The Keras twin's checkpoints are loaded in safe mode: a Lambda layer's code is refused."""

from __future__ import annotations

import pytest

from twinaudit.errors import InputError
from twinaudit.frameworks import load_twin, twin_class
from twinaudit.nets import MLPNetwork


def test_a_checkpoint_carrying_a_lambda_is_refused(tmp_path):
    twin = twin_class("keras")(MLPNetwork(n_inputs=3, hidden=(2,)), random_state=0).initialize()
    weights = twin.save(tmp_path / "seed0")
    import keras

    hostile = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    hostile.save(weights)
    with pytest.raises(InputError, match="not a usable keras checkpoint"):
        load_twin(weights)
