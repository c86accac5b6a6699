"""The PyTorch twin: ``nn.Sequential`` of ``Linear`` layers and ``torch.optim.Adam``."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from twinaudit.train import Schedule
from twinaudit.twins.base import Twin

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
# Inference in slices bounds memory on large inputs without a per-row cost.
_INFERENCE_ROWS = 65536


class TorchTwin(Twin):
    """PyTorch twin. Adam is torch's own; the Keras twin implements the same rule."""

    framework: ClassVar[str] = "torch"
    checkpoint_suffix: ClassVar[str] = ".pt"

    def _build(self, weights: dict[str, np.ndarray]) -> None:
        spec = self.network
        layers: list[nn.Module] = []
        self._linears: list[nn.Linear] = []
        for index, (fan_in, fan_out) in enumerate(zip(spec.widths[:-1], spec.widths[1:])):
            linear = nn.Linear(fan_in, fan_out)
            self._linears.append(linear)
            layers.append(linear)
            if index < len(spec.hidden):
                layers.append(_ACTIVATIONS[spec.activation]())
                if spec.dropout > 0:
                    layers.append(nn.Dropout(spec.dropout))
        self.model_ = nn.Sequential(*layers).train()
        self.set_weights(weights)
        schedule = self.schedule or Schedule()
        self.optimizer_ = torch.optim.Adam(
            self.model_.parameters(), lr=schedule.learning_rate,
            betas=(schedule.beta_1, schedule.beta_2), eps=schedule.epsilon,
        )

    def train_step(self, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None = None) -> None:
        logits = self.model_(torch.from_numpy(X))
        if batch_weight is None:
            loss = nn.functional.cross_entropy(logits, torch.from_numpy(y))
        else:
            per_row = nn.functional.cross_entropy(logits, torch.from_numpy(y), reduction="none")
            loss = (per_row * torch.from_numpy(batch_weight)).mean()
        if self.network.l2 > 0:
            # Keras' L2 regulariser: l2 · sum(kernel²) added to the loss, biases exempt.
            loss = loss + self.network.l2 * sum(linear.weight.square().sum()
                                                for linear in self._linears)
        self.optimizer_.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_.step()

    def decision_function(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        # The model stays in training mode (dropout on) between steps; inference switches it
        # off only for this call, so train_step never pays for a mode switch.
        self.model_.eval()
        try:
            with torch.inference_mode():
                return np.concatenate([
                    self.model_(torch.from_numpy(X[start:start + _INFERENCE_ROWS])).numpy()
                    for start in range(0, max(len(X), 1), _INFERENCE_ROWS)
                ])
        finally:
            self.model_.train()

    def get_weights(self) -> dict[str, np.ndarray]:
        weights = {}
        for index, linear in enumerate(self._linears):
            weights[f"dense_{index}.kernel"] = linear.weight.detach().numpy().T.copy()
            weights[f"dense_{index}.bias"] = linear.bias.detach().numpy().copy()
        return weights

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for index, linear in enumerate(self._linears):
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(
                    weights[f"dense_{index}.kernel"].T, dtype=np.float32)))
                linear.bias.copy_(torch.from_numpy(
                    np.asarray(weights[f"dense_{index}.bias"], dtype=np.float32)))

    def _save_weights(self, path: Path) -> None:
        torch.save(self.model_.state_dict(), path)

    def _load_weights(self, path: Path) -> None:
        # weights_only: a checkpoint is data, never code to unpickle.
        self.model_.load_state_dict(torch.load(path, weights_only=True))
