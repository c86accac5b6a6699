"""The torch layer builders' own conversions (the shared answers are in test_conformance.py)."""

import numpy as np

from twinaudit.frameworks import twin_class
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets.layers import LSTM, Dense

from helpers import LayerStack


def test_torch_lstm_keeps_its_second_bias_at_zero_through_training():
    network = LayerStack((3, 2), (LSTM(2), Dense(2)))
    twin = twin_class("torch")(network, Schedule(learning_rate=0.1)).initialize()
    rng = np.random.default_rng(0)
    for _ in range(3):
        twin.train_step(rng.normal(size=(4, 3, 2)).astype(np.float32), rng.integers(0, 2, 4))
    lstm = twin._modules["lstm_0"]
    assert not lstm.bias_hh_l0.requires_grad and not lstm.bias_hh_l0.any()
    assert lstm.bias_ih_l0.requires_grad
