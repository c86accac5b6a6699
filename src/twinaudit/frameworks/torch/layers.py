"""Framework-neutral layers as torch modules, and the one layout conversion per layer type.

torch differs from the canonical (Keras) layout in four places, each handled here only:
``Linear.weight`` is (out, in); ``Conv2d.weight`` is (out, in, kh, kw) on channels-first
tensors; ``nn.LSTM`` keeps its input and recurrent matrices as (4·units, in) and carries two
biases; and images arrive channels-last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import torch
from torch import nn

from twinaudit.nets import Network
from twinaudit.nets.layers import LSTM, Conv2D, Dense, Dropout, Embedding, Flatten, Layer, MaxPool2D

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class ChannelsFirst(nn.Module):
    """(batch, height, width, channels) -> (batch, channels, height, width) for torch's convs."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.permute(0, 3, 1, 2)


class ChannelsLast(nn.Module):
    """(batch, channels, height, width) -> (batch, height, width, channels): before flattening,
    so the flattened features come out in the canonical order, and at the end of a network
    whose output is an image."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.permute(0, 2, 3, 1)


class LastStateLSTM(nn.LSTM):
    """A batch-first one-layer LSTM that returns the last time step's hidden state.

    Keras' LSTM has one bias, torch's two (``b_ih + b_hh`` enter every gate as a sum). Were
    both trained, each would take its own Adam step on the same gradient, so the sum would
    move twice as far as Keras' single bias. ``bias_hh_l0`` is therefore held at zero and out
    of training: ``bias_ih_l0`` alone plays Keras' bias.
    """

    def __init__(self, input_size: int, units: int):
        super().__init__(input_size, units, batch_first=True)
        # A Parameter; torch types the attribute (Module.__getattr__) as Tensor | Module.
        bias_hh = cast(torch.Tensor, self.bias_hh_l0)
        with torch.no_grad():
            bias_hh.zero_()
        bias_hh.requires_grad_(False)

    # Narrower than nn.LSTM.forward on purpose (one tensor in, the last state out): the module
    # is only ever called inside the twin's nn.Sequential, never as a general nn.LSTM.
    def forward(  # type: ignore[override]  # deliberately narrows nn.LSTM.forward (see above)
            self, sequences: torch.Tensor) -> torch.Tensor:  # (batch, time, features)
        output, _ = super().forward(sequences)
        return output[:, -1]  # (batch, units)


class TokenEmbedding(nn.Embedding):
    """``nn.Embedding`` that accepts the int32 token ids both twins are given."""

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        return super().forward(token_ids.long())


def _activation(name: str | None) -> list[nn.Module]:
    return [] if name is None else [ACTIVATIONS[name]()]


def build_modules(network: Network) -> tuple[nn.Sequential, dict[str, nn.Module]]:
    """The network as ``nn.Sequential``, and its parameterised modules by canonical name."""
    modules: list[nn.Module] = []
    named_modules: dict[str, nn.Module] = {}
    channels_first = False
    for named in network.named_layers():
        layer, shape = named.layer, named.input_shape
        if isinstance(layer, Conv2D | MaxPool2D) and not channels_first:
            modules.append(ChannelsFirst())
            channels_first = True
        if isinstance(layer, Flatten) and channels_first:
            modules.append(ChannelsLast())
            channels_first = False
        module = _module(layer, shape)
        if module is not None:
            named_modules[named.name] = module
            modules.append(module)
        if isinstance(layer, Dense | Conv2D):
            modules.extend(_activation(layer.activation))
        elif isinstance(layer, MaxPool2D):
            modules.append(nn.MaxPool2d(layer.pool_size))
        elif isinstance(layer, Flatten):
            modules.append(nn.Flatten())
        elif isinstance(layer, Dropout):
            modules.append(nn.Dropout(layer.rate))
    if channels_first:  # a network ending in images hands them back channels-last
        modules.append(ChannelsLast())
    return nn.Sequential(*modules), named_modules


def _module(layer: Layer, input_shape: tuple[int, ...]) -> nn.Module | None:
    """The parameterised module of a layer (None for layers without parameters)."""
    if isinstance(layer, Dense):
        return nn.Linear(input_shape[-1], layer.units)
    if isinstance(layer, Conv2D):
        return nn.Conv2d(input_shape[-1], layer.filters, layer.kernel_size)
    if isinstance(layer, Embedding):
        return TokenEmbedding(layer.input_dim, layer.output_dim)
    if isinstance(layer, LSTM):
        return LastStateLSTM(input_shape[-1], layer.units)
    return None


# Canonical parameters -> torch parameters, and back, per layer kind.
_TO_TORCH: dict[str, Callable[[dict], dict]] = {
    "dense": lambda p: {"weight": p["kernel"].T, "bias": p["bias"]},
    # (kh, kw, in, out) -> (out, in, kh, kw)
    "conv": lambda p: {"weight": p["kernel"].transpose(3, 2, 0, 1), "bias": p["bias"]},
    "embedding": lambda p: {"weight": p["embeddings"]},
    # Same gate order (i, f, g/c, o); matrices transposed; the one bias goes to b_ih.
    "lstm": lambda p: {"weight_ih_l0": p["kernel"].T, "weight_hh_l0": p["recurrent_kernel"].T,
                       "bias_ih_l0": p["bias"], "bias_hh_l0": np.zeros_like(p["bias"])},
}
_FROM_TORCH: dict[str, Callable[[dict], dict]] = {
    "dense": lambda t: {"kernel": t["weight"].T, "bias": t["bias"]},
    "conv": lambda t: {"kernel": t["weight"].transpose(2, 3, 1, 0), "bias": t["bias"]},
    "embedding": lambda t: {"embeddings": t["weight"]},
    "lstm": lambda t: {"kernel": t["weight_ih_l0"].T, "recurrent_kernel": t["weight_hh_l0"].T,
                       "bias": t["bias_ih_l0"] + t["bias_hh_l0"]},
}


def _kind(name: str) -> str:
    return name.rsplit("_", 1)[0]


def get_parameters(named_modules: dict[str, nn.Module], *,
                   gradients: bool = False) -> dict[str, np.ndarray]:
    """All parameters (or, with ``gradients``, their gradients) in the canonical layout, as
    numpy copies in the parameters' own dtype.

    A parameter out of training (the LSTM's ``bias_hh``) has no gradient: it counts as zero,
    so the LSTM's one canonical bias gets ``bias_ih``'s gradient, as Keras' single bias would.
    """
    weights = {}
    for name, module in named_modules.items():
        torch_values = {}
        for key, parameter in module.named_parameters():
            value: torch.Tensor = parameter
            if gradients:
                value = parameter.grad if parameter.grad is not None \
                    else torch.zeros_like(parameter)
            torch_values[key] = value.detach().numpy()
        for parameter, value in _FROM_TORCH[_kind(name)](torch_values).items():
            weights[f"{name}.{parameter}"] = np.array(value, copy=True)
    return weights


def set_parameters(named_modules: dict[str, nn.Module], weights: dict[str, np.ndarray], *,
                   gradients: bool = False) -> None:
    """Load parameters given in the canonical layout (or, with ``gradients``, set them as the
    trainable parameters' gradients, for the optimizer's next step)."""
    with torch.no_grad():
        for name, module in named_modules.items():
            prefix = f"{name}."
            canonical = {key[len(prefix):]: value for key, value in weights.items()
                         if key.startswith(prefix)}
            parameters = dict(module.named_parameters())
            for key, value in _TO_TORCH[_kind(name)](canonical).items():
                parameter = parameters[key]
                tensor = torch.from_numpy(np.ascontiguousarray(value))
                if not gradients:
                    # copy_ casts to the parameter's own dtype (float32, or float64 in parity).
                    parameter.copy_(tensor)
                elif parameter.requires_grad:
                    parameter.grad = tensor.to(parameter.dtype).clone()


def regularised_kernels(named_modules: dict[str, nn.Module]) -> list[torch.Tensor]:
    """The weights Keras' ``kernel_regularizer`` covers: dense and conv kernels, not biases."""
    return [module.weight for module in named_modules.values()
            if isinstance(module, nn.Linear | nn.Conv2d)]
