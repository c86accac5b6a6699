"""The PyTorch twin: the network as ``nn.Sequential`` and ``torch.optim.Adam``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from twinaudit.frameworks.base import CLIP_STABILITY, RawGradients, Twin
from twinaudit.frameworks.schedule import Schedule
from twinaudit.frameworks.torch import gradients
from twinaudit.frameworks.torch.layers import (
    build_modules,
    get_parameters,
    regularised_kernels,
    set_parameters,
)
from twinaudit.frameworks.torch.threads import torch_threads

# Inference in slices bounds memory on large inputs without a per-row cost.
_INFERENCE_ROWS = 65536


class TorchTwin(Twin):
    """PyTorch twin. Adam is torch's own; the Keras twin implements the same rule."""

    framework: ClassVar[str] = "torch"
    checkpoint_suffix: ClassVar[str] = ".pt"
    packages: ClassVar[tuple[str, ...]] = ("torch",)

    def _build(self, weights: dict[str, np.ndarray]) -> None:
        assert self.network is not None, "the twin has no network"
        self.model_, self._modules = build_modules(self.network)
        if self.precision == "float64":
            self.model_.double()
        self.model_.train()
        self._kernels = regularised_kernels(self._modules)
        self.set_weights(weights)
        schedule = self.schedule or Schedule()
        # Only trainable parameters: the LSTM's second bias is held at zero.
        trainable = [p for p in self.model_.parameters() if p.requires_grad]
        # (A network without parameters — a lone pooling layer in a test — has no optimizer.)
        self.optimizer_ = torch.optim.Adam(
            trainable, lr=schedule.learning_rate, betas=(schedule.beta_1, schedule.beta_2),
            eps=schedule.epsilon,
        ) if trainable else None

    def train_step(self, X: np.ndarray, y: np.ndarray,
                   batch_weight: np.ndarray | None = None) -> None:
        # Only a network without parameters has no optimizer, and it is never trained.
        assert self.optimizer_ is not None, "the twin's network has no parameters to train"
        self.optimizer_.zero_grad(set_to_none=True)
        self._loss(X, y, batch_weight).backward()
        self.optimizer_.step()

    def _loss(self, X: np.ndarray, y: np.ndarray,
              batch_weight: np.ndarray | None) -> torch.Tensor:
        assert self.network is not None, "the twin has no network"
        inputs = torch.from_numpy(np.asarray(X, dtype=self.input_dtype))
        weight = None if batch_weight is None else torch.from_numpy(
            np.asarray(batch_weight, dtype=self.precision))
        output = self.model_(inputs)
        if self.network.task.target_is_input:
            per_row = (output - inputs).square().mean(dim=1)
            loss = per_row.mean() if weight is None else (per_row * weight).mean()
        elif weight is None:
            loss = nn.functional.cross_entropy(output, torch.from_numpy(y))
        else:
            per_row = nn.functional.cross_entropy(output, torch.from_numpy(y), reduction="none")
            loss = (per_row * weight).mean()
        l2 = self.network.l2
        if l2 > 0:
            # Keras' L2 regulariser: l2 · sum(kernel²) added to the loss, biases exempt.
            loss = loss + l2 * sum(kernel.square().sum() for kernel in self._kernels)
        return loss

    def _loss_gradients(self, X: np.ndarray, y: np.ndarray,
                        batch_weight: np.ndarray | None) -> dict[str, np.ndarray]:
        self.model_.zero_grad(set_to_none=True)
        self._loss(X, y, batch_weight).backward()
        gradients = get_parameters(self._modules, gradients=True)
        self.model_.zero_grad(set_to_none=True)
        return gradients

    def output_gradients(self, X: np.ndarray, upstream: np.ndarray) -> dict[str, np.ndarray]:
        inputs = torch.from_numpy(np.asarray(X, dtype=self.input_dtype))
        self.model_.zero_grad(set_to_none=True)
        output = self.model_(inputs)
        (output * torch.from_numpy(np.asarray(upstream, dtype=self.precision))).sum().backward()
        gradients = get_parameters(self._modules, gradients=True)
        self.model_.zero_grad(set_to_none=True)
        return gradients

    def clipped_gradient_sum(self, X: np.ndarray, y: np.ndarray,
                             clipping_norm: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        # A dense layer's per-row gradients need no per-row pass (Goodfellow 2015, as
        # Opacus' Linear grad sampler): with a_i the layer's input and δ_i = ∂l_i/∂z_i its
        # output's gradient, the row's kernel gradient is the outer product a_iᵀδ_i, of norm
        # ‖a_i‖·‖δ_i‖, and the clipped sum over rows is aᵀ(c ⊙ δ): one forward and one
        # backward pass for the whole batch.
        assert self.network is not None, "the twin has no network"
        layers = list(self._modules.values())
        if not all(isinstance(layer, nn.Linear) for layer in layers):
            raise ValueError("DP-SGD's clipped gradients are implemented for dense networks")
        inputs = torch.from_numpy(np.asarray(X, dtype=self.input_dtype))
        activations, outputs = [], []
        hidden = inputs
        for module in self.model_:
            if isinstance(module, nn.Linear):
                activations.append(hidden.detach())
                hidden = module(hidden)
                outputs.append(hidden)
            else:
                hidden = module(hidden)
        if self.network.task.target_is_input:
            losses = (hidden - inputs).square().mean(dim=1)
        else:
            losses = nn.functional.cross_entropy(hidden, torch.from_numpy(
                np.asarray(y, dtype=np.int64)), reduction="none")
        # Rows are independent: the gradient of the sum is each row's own ∂l_i/∂z_i.
        signals = torch.autograd.grad(losses.sum(), outputs)
        # ‖a_iᵀδ_i‖² + ‖δ_i‖² per layer (kernel and bias), summed over the layers.
        norms = torch.sqrt(torch.stack([(a.square().sum(dim=1) + 1) * d.square().sum(dim=1)
                                        for a, d in zip(activations, signals, strict=True)]
                                       ).sum(dim=0))
        factors = (clipping_norm / (norms + CLIP_STABILITY)).clamp(max=1.0)
        for layer, a, d in zip(layers, activations, signals, strict=True):
            scaled = d * factors[:, None]
            layer.weight.grad = scaled.T @ a
            layer.bias.grad = scaled.sum(dim=0)
        summed = get_parameters(self._modules, gradients=True)
        self.model_.zero_grad(set_to_none=True)
        return summed, norms.double().numpy()

    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        assert self.optimizer_ is not None, "the twin's network has no parameters to train"
        set_parameters(self._modules, gradients, gradients=True)
        self.optimizer_.step()
        self.optimizer_.zero_grad(set_to_none=True)

    def forward(self, X) -> np.ndarray:
        assert self.network is not None, "the twin has no network"
        X = np.ascontiguousarray(X, dtype=self.input_dtype)
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
        return get_parameters(self._modules)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        set_parameters(self._modules, weights)

    def _save_weights(self, path: Path) -> None:
        torch.save(self.model_.state_dict(), path)

    @classmethod
    @contextmanager
    def thread_limit(cls, threads: int) -> Iterator[None]:
        with torch_threads(threads):
            yield

    @classmethod
    def environment(cls) -> dict[str, Any]:
        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        return {"settings": {"torch_default_threads": torch.get_num_threads()},
                "device": device}

    def torch_module(self) -> nn.Module:
        return self.model_

    def raw_gradients(self, row_shape: tuple[int, ...], *, per_class: bool,
                      from_embeddings: bool) -> RawGradients:
        return gradients.raw_gradients(self, row_shape, per_class=per_class,
                                       from_embeddings=from_embeddings)

    def _load_weights(self, path: Path) -> None:
        # weights_only: a checkpoint is data, never code to unpickle.
        self.model_.load_state_dict(torch.load(path, weights_only=True))
