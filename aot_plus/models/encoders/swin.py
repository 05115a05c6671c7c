"""Swin Transformer encoder (Swin-B, first three stages), pure PyTorch (``docs/model.md``, Encoders).

Module names follow the Swin detection backbone used by AOT (``patch_embed``, ``layers.i.blocks.j``,
``layers.i.downsample``, ``norm{i}``), so ``swin_base_patch4_window7_224_22k.pth`` loads into it (its ``head``,
final ``norm``, ``layers.3`` and ``layers.2.downsample`` entries are ignored).

Shape notation: tokens ``[B, H*W, C]`` in row-major order; windows ``[B*nW, ws*ws, C]``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from aot_plus.models.layers.basic import DropPath

# Added to attention logits between tokens that a cyclic shift made neighbours (reference value).
SHIFT_MASK_VALUE = -100.0
# Standard deviation of the truncated-normal initialisation of linear weights and relative-position tables.
INIT_STD = 0.02


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """Split ``[B, H, W, C]`` (H, W multiples of ``window``) into ``[B*nW, window*window, C]``."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, window * window, c)


def window_merge(windows: torch.Tensor, window: int, height: int, width: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: ``[B*nW, window*window, C]`` -> ``[B, H, W, C]``."""
    c = windows.shape[-1]
    x = windows.view(-1, height // window, width // window, window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, height, width, c)


def shifted_window_mask(height: int, width: int, window: int, shift: int, device: torch.device) -> torch.Tensor:
    """Additive mask ``[nW, window*window, window*window]`` for shifted-window attention.

    ``height``/``width`` are the padded sizes. Rows and columns are split into three bands (before the last
    window, the last window minus the shift, the shift); tokens in different band pairs may not attend.
    """
    def bands(size: int) -> torch.Tensor:
        index = torch.arange(size, device=device)
        return (index >= size - window).long() + (index >= size - shift).long()

    region = (bands(height)[:, None] * 3 + bands(width)[None, :]).float()
    region = window_partition(region[None, :, :, None], window).squeeze(-1)
    different = region[:, None, :] != region[:, :, None]
    return torch.zeros(different.shape, device=device).masked_fill(different, SHIFT_MASK_VALUE)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows with a learned relative position bias.

    Args:
        dim: Token channels.
        window: Window side length.
        num_heads: Attention heads.
    """

    def __init__(self, dim: int, window: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, num_heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
        self.register_buffer("relative_position_index", relative[..., 0] * (2 * window - 1) + relative[..., 1])
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attend within each window.

        Args:
            x: Window tokens ``[B*nW, N, C]``.
            mask: Optional additive mask ``[nW, N, N]``.

        Returns:
            ``[B*nW, N, C]``.
        """
        bw, n, c = x.shape
        q, k, v = self.qkv(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            num_windows = mask.shape[0]
            attn = attn.view(bw // num_windows, num_windows, self.num_heads, n, n) + mask[None, :, None]
            attn = attn.view(bw, self.num_heads, n, n)
        out = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(out)


class Mlp(nn.Module):
    """Two linear layers with exact GELU in between.

    Args:
        dim: Input and output channels.
        hidden: Hidden channels.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the MLP to tokens ``[..., dim]``."""
        return self.fc2(self.act(self.fc1(x)))


class SwinBlock(nn.Module):
    """Pre-norm (shifted-)window attention and MLP, each with a residual and stochastic depth.

    Args:
        dim: Token channels.
        num_heads: Attention heads.
        window: Window side length.
        shift: Cyclic shift (0 for a plain window block, ``window // 2`` for a shifted one).
        mlp_ratio: MLP hidden width as a multiple of ``dim``.
        drop_path: Stochastic depth probability.
    """

    def __init__(self, dim: int, num_heads: int, window: int = 7, shift: int = 0, mlp_ratio: float = 4.0,
                 drop_path: float = 0.0) -> None:
        super().__init__()
        self.window = window
        self.shift = shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, num_heads)
        self.drop_path: nn.Module = DropPath(drop_path, batch_dim=0) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, height: int, width: int, shift_mask: torch.Tensor) -> torch.Tensor:
        """Apply the block to tokens ``[B, H*W, C]`` of an ``height x width`` map.

        ``shift_mask`` is :func:`shifted_window_mask` of the padded map; plain window blocks ignore it.
        """
        b, _, c = x.shape
        y = self.norm1(x).view(b, height, width, c)
        pad_w = (self.window - width % self.window) % self.window
        pad_h = (self.window - height % self.window) % self.window
        y = F.pad(y, (0, 0, 0, pad_w, 0, pad_h))
        padded_h, padded_w = y.shape[1], y.shape[2]
        if self.shift > 0:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = self.attn(window_partition(y, self.window), shift_mask if self.shift > 0 else None)
        y = window_merge(y, self.window, padded_h, padded_w)
        if self.shift > 0:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        y = y[:, :height, :width, :].reshape(b, height * width, c)
        x = x + self.drop_path(y)
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchMerging(nn.Module):
    """Concatenate 2x2 neighbours (padding odd sizes), normalise, project ``4C -> 2C``.

    Args:
        dim: Input channels C.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Merge tokens ``[B, H*W, C]`` into ``[B, ceil(H/2)*ceil(W/2), 2C]``."""
        b, _, c = x.shape
        x = F.pad(x.view(b, height, width, c), (0, 0, 0, width % 2, 0, height % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x.view(b, -1, 4 * c)))


class SwinStage(nn.Module):
    """Alternating window / shifted-window blocks, optionally followed by patch merging.

    Args:
        dim: Token channels.
        depth: Number of blocks.
        num_heads: Attention heads.
        window: Window side length.
        drop_path: Stochastic depth probability of each block.
        downsample: Whether a :class:`PatchMerging` follows the blocks.
    """

    def __init__(self, dim: int, depth: int, num_heads: int, window: int, drop_path: list[float],
                 downsample: bool) -> None:
        super().__init__()
        self.window = window
        self.blocks = nn.ModuleList([
            SwinBlock(dim, num_heads, window, shift=0 if i % 2 == 0 else window // 2, drop_path=drop_path[i])
            for i in range(depth)])
        self.downsample = PatchMerging(dim) if downsample else None

    def forward(self, x: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the stage output ``[B, H*W, C]`` and the next stage's input (merged, or the output itself)."""
        padded_h = -(-height // self.window) * self.window
        padded_w = -(-width // self.window) * self.window
        mask = shifted_window_mask(padded_h, padded_w, self.window, self.window // 2, x.device).to(x.dtype)
        for block in self.blocks:
            x = block(x, height, width, mask)
        return x, (x if self.downsample is None else self.downsample(x, height, width))


class PatchEmbed(nn.Module):
    """Pad to a multiple of the patch size, project patches with a strided conv, LayerNorm.

    Args:
        patch: Patch side length.
        embed_dim: Output channels.
    """

    def __init__(self, patch: int = 4, embed_dim: int = 128) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=patch, stride=patch)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Embed ``image`` ``[B, 3, H, W]`` into ``[B, C, ceil(H/patch), ceil(W/patch)]``."""
        height, width = image.shape[-2:]
        image = F.pad(image, (0, -width % self.patch, 0, -height % self.patch))
        x = self.proj(image)
        b, c, h, w = x.shape
        return self.norm(x.flatten(2).transpose(1, 2)).transpose(1, 2).view(b, c, h, w)


class SwinEncoder(nn.Module):
    """Swin Transformer backbone; returns ``[x4, x8, x16, x16]`` (each stage output after its ``norm{i}``).

    Args:
        embed_dim: Channels of the first stage (doubled per stage).
        depths: Block counts of the full four-stage network. The drop-path schedule spans all of them,
            as in the reference, though only ``num_stages`` stages are built.
        num_heads: Attention heads per stage.
        window: Window side length.
        drop_path: Largest stochastic depth probability (linearly increasing over all blocks).
        num_stages: Stages built; the last one has no patch merging.
        patch: Patch side length.
    """

    def __init__(self, embed_dim: int = 128, depths: tuple[int, ...] = (2, 2, 18, 2),
                 num_heads: tuple[int, ...] = (4, 8, 16, 32), window: int = 7, drop_path: float = 0.3,
                 num_stages: int = 3, patch: int = 4) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(patch, embed_dim)
        rates = torch.linspace(0, drop_path, sum(depths)).tolist()
        self.dims = [embed_dim * 2 ** i for i in range(num_stages)]
        self.layers = nn.ModuleList()
        for i in range(num_stages):
            start = sum(depths[:i])
            self.layers.append(SwinStage(self.dims[i], depths[i], num_heads[i], window,
                                         rates[start:start + depths[i]], downsample=i < num_stages - 1))
        for i, dim in enumerate(self.dims):
            self.add_module(f"norm{i}", nn.LayerNorm(dim))
        self.apply(_init_weights)

    def freeze(self, freeze_at: int) -> None:
        """Reference ``frozen_stages`` rule (``docs/model.md``, Encoders).

        ``freeze_at >= 0`` freezes the patch embedding; ``freeze_at >= 2`` also freezes stages
        ``0 .. freeze_at - 2`` (their stochastic depth becomes an identity) but leaves the patch merging of
        the last frozen stage trainable. ``-1`` freezes nothing.
        """
        if freeze_at >= 0:
            self.patch_embed.requires_grad_(False)
        frozen = list(self.layers)[:max(freeze_at - 1, 0)]
        for stage in frozen:
            for block in stage.blocks:
                block.drop_path = nn.Identity()
            stage.requires_grad_(False)
        if frozen and frozen[-1].downsample is not None:
            frozen[-1].downsample.requires_grad_(True)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Encode ``image`` ``[B, 3, H, W]`` into 128/256/512/512-channel maps at strides 4, 8, 16, 16."""
        x = self.patch_embed(image)
        height, width = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        outputs = []
        for i, stage in enumerate(self.layers):
            out, x = stage(x, height, width)
            out = getattr(self, f"norm{i}")(out)
            outputs.append(out.view(-1, height, width, self.dims[i]).permute(0, 3, 1, 2).contiguous())
            height, width = (height + 1) // 2, (width + 1) // 2
        outputs.append(outputs[-1])
        return outputs


def _init_weights(module: nn.Module) -> None:
    """Official Swin initialisation: linear weights and bias tables from ``trunc_normal_(std=0.02)``.

    The truncation bounds are torch's default absolute [-2, 2], as in the official code (timm's helper).
    """
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=INIT_STD)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, WindowAttention):
        nn.init.trunc_normal_(module.relative_position_bias_table, std=INIT_STD)
