"""Small building blocks shared by the transformers and the decoder (``docs/model.md``, Attention primitives).

Shapes: sequences are ``[L, B, C]`` with ``L = h * w`` tokens in row-major order; maps are ``[B, C, h, w]``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def seq_to_map(x: Tensor, size_2d: tuple[int, int]) -> Tensor:
    """``[L, B, C]`` -> ``[B, C, h, w]`` (contiguous)."""
    h, w = size_2d
    _, batch, channels = x.shape
    return x.view(h, w, batch, channels).permute(2, 3, 0, 1).contiguous()


def map_to_seq(x: Tensor) -> Tensor:
    """``[B, C, h, w]`` -> ``[L, B, C]``."""
    batch, channels, h, w = x.shape
    return x.view(batch, channels, h * w).permute(2, 0, 1)


def large_negative(dtype: torch.dtype) -> float:
    """The value that silences a logit before a softmax: -1e10 in float32, -1e4 in any other dtype.

    -1e4 is the largest magnitude float16 holds comfortably; the reference uses the same float32 test (so bfloat16
    gets -1e4 too). Any value whose exponential underflows gives the same softmax; see ``docs/masking.md``.
    """
    return -1e10 if dtype == torch.float32 else -1e4


def silu(x: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (written out as in the reference rather than the fused kernel)."""
    return x * torch.sigmoid(x)


class DropPath(nn.Module):
    """Stochastic depth over the batch axis ``batch_dim`` (identity in eval mode or with ``p = 0``).

    Args:
        p: probability of dropping the whole residual of a batch item.
        batch_dim: the batch axis (1 for ``[L, B, C]`` sequences).
    """

    def __init__(self, p: float = 0.0, batch_dim: int = 1) -> None:
        super().__init__()
        self.p = p
        self.batch_dim = batch_dim

    def forward(self, x: Tensor) -> Tensor:
        """Drop ``x`` per batch item during training, scaling the kept ones by ``1 / (1 - p)``."""
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        shape = [1] * x.dim()
        shape[self.batch_dim] = x.shape[self.batch_dim]
        mask = (keep + torch.rand(shape, dtype=x.dtype, device=x.device)).floor_()
        return x.div(keep) * mask


class GroupNorm1D(nn.Module):
    """GroupNorm over a sequence ``[L, B, C]`` (statistics over all tokens of a channel group); keys ``gn.*``.

    Args:
        channels: C.
        groups: number of channel groups.
    """

    def __init__(self, channels: int, groups: int = 8) -> None:
        super().__init__()
        self.gn = nn.GroupNorm(groups, channels)

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` ``[L, B, C]``."""
        return self.gn(x.permute(1, 2, 0)).permute(2, 0, 1)


class GNActDWConv2d(nn.Module):
    """AOT feed-forward activation: GroupNorm(32), GELU, depthwise 5x5 conv; keys ``gn.*``, ``conv.weight``.

    Args:
        channels: width of the feed-forward.
        groups: GroupNorm groups.
    """

    def __init__(self, channels: int, groups: int = 32) -> None:
        super().__init__()
        self.gn = nn.GroupNorm(groups, channels)
        self.conv = nn.Conv2d(channels, channels, 5, padding=2, groups=channels, bias=False)

    def forward(self, x: Tensor, size_2d: tuple[int, int]) -> Tensor:
        """Apply to ``x`` ``[L, B, C]`` laid out on the ``size_2d`` grid."""
        h, w = size_2d
        _, batch, channels = x.shape
        y = x.view(h, w, batch, channels).permute(2, 3, 0, 1)
        y = self.conv(F.gelu(self.gn(y)))
        return y.view(batch, channels, h * w).permute(2, 0, 1)


class DWConv2d(nn.Module):
    """DeAOT depthwise 5x5 conv (no bias) then ``Dropout2d`` (training only); key ``conv.weight``.

    Args:
        channels: width.
        dropout: channel dropout rate (reference 0.1).
    """

    def __init__(self, channels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 5, padding=2, groups=channels, bias=False)
        self.dropout = nn.Dropout2d(p=dropout)

    def forward(self, x: Tensor, size_2d: tuple[int, int]) -> Tensor:
        """Apply to ``x`` ``[L, B, C]`` laid out on the ``size_2d`` grid."""
        h, w = size_2d
        _, batch, channels = x.shape
        y = x.view(h, w, batch, channels).permute(2, 3, 0, 1)
        y = self.dropout(self.conv(y))
        return y.reshape(batch, channels, h * w).permute(2, 0, 1)


class ConvGN(nn.Module):
    """Conv2d (``k x k``, same padding, bias) then GroupNorm; keys ``conv.*``, ``gn.*``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: k.
        groups: GroupNorm groups.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, groups: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.gn = nn.GroupNorm(groups, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        """Apply to a map ``[B, C, h, w]``."""
        return self.gn(self.conv(x))


def xavier_init(module: nn.Module) -> None:
    """Xavier-uniform on every parameter with at least two dimensions (the reference's transformer init)."""
    for param in module.parameters():
        if param.dim() > 1:
            nn.init.xavier_uniform_(param)
