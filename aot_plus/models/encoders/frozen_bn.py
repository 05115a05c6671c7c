"""Batch normalisation with fixed statistics and affine terms (``docs/model.md``, Encoders)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d that always normalises with its stored statistics.

    All four tensors are buffers (no parameters, no ``num_batches_tracked``), so they appear in the state dict
    under the usual BatchNorm names but never receive gradients or optimiser updates. Train and eval mode
    behave identically: ``(x - running_mean) / sqrt(running_var + eps) * weight + bias``.

    Args:
        num_features: Number of channels C of the ``[B, C, H, W]`` input.
        eps: Added to the variance before the square root.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        # 1 - eps so that a freshly built layer is exactly the identity.
        self.register_buffer("running_var", torch.ones(num_features) - eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` ``[B, C, H, W]`` with the stored statistics."""
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=False, eps=self.eps)

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return f"{self.num_features}, eps={self.eps}"
