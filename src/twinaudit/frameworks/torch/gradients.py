"""The torch twin's input gradients for attribution: one backward pass over a whole batch.

See :mod:`twinaudit.attribution.gradients` for what is explained and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twinaudit.frameworks.base import RawGradients

if TYPE_CHECKING:
    from twinaudit.frameworks.base import Twin


def raw_gradients(twin: Twin, row_shape: tuple[int, ...], *, per_class: bool,
                     from_embeddings: bool) -> RawGradients:
    import torch

    model = twin.model_
    model.eval()  # dropout off: attributions explain the deterministic network
    if from_embeddings:
        # The modules after the embedding (nn.Sequential slices share the modules).
        modules = list(model)
        first = next(i for i, module in enumerate(modules)
                     if isinstance(module, torch.nn.Embedding))
        model = model[first + 1:]

    def gradients(X: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray]:
        # from_numpy shares memory with the caller's points: no copy on the way in or out.
        inputs = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).requires_grad_()
        # enable_grad: callers such as captum's sensitivity_max run explanations under no_grad.
        with torch.enable_grad():
            logits = model(inputs.reshape(-1, *row_shape))                    # (n, classes)
            if per_class:
                outputs = torch.log_softmax(logits, dim=1)[:, target]         # (n,)
            else:
                outputs = logits[:, 1] - logits[:, 0]                         # (n,)
            # Rows are independent, so the gradient of the sum is every row's own gradient:
            # one backward pass over the whole batch. Only the input gradient is asked for,
            # so autograd skips the parameters' gradients.
            (gradient,) = torch.autograd.grad(outputs.sum(), inputs)          # (n, d)
        return outputs.detach().numpy(), gradient.numpy()

    return gradients
