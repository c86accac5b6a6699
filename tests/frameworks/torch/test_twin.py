"""The torch twin's checkpoints are data: a pickle that would run code is refused unrun."""

from __future__ import annotations

import os
import pickle

import pytest

from twinaudit.errors import InputError
from twinaudit.frameworks import load_twin, twin_class
from twinaudit.nets import MLPNetwork


class Payload:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_pickle_checkpoint_is_refused_and_never_runs(tmp_path):
    twin = twin_class("torch")(MLPNetwork(n_inputs=3, hidden=(2,)), random_state=0).initialize()
    weights = twin.save(tmp_path / "seed0")
    marker = tmp_path / "pwned"
    import torch

    torch.save({"weights": Payload(str(marker))}, weights, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    with pytest.raises(InputError, match="not a usable torch checkpoint"):
        load_twin(weights)
    assert not marker.exists()
