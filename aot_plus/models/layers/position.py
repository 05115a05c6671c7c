"""Position embeddings: the sine embedding of the encoder grid and RMem's temporal embedding.

Both are pure functions of their inputs; nothing is cached on modules (``docs/model.md``, ``docs/temporal-pe.md``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


def sine_position_embedding(size_2d: tuple[int, int], channels: int = 256, temperature: float = 10000.0,
                            device: torch.device | str = "cpu") -> Tensor:
    """DETR-style normalised sine embedding of an ``h x w`` grid (``docs/model.md``).

    Rows and columns are normalised to ``[0, 2 pi]`` (the last index maps to ``~2 pi``); channels ``0 .. C/2-1``
    embed the row, ``C/2 .. C-1`` the column, with sin / cos interleaved.

    Args:
        size_2d: ``(h, w)``.
        channels: C (the two halves get C/2 features each).
        temperature: frequency base.
        device: where to build it.

    Returns:
        ``[1, C, h, w]`` float32.
    """
    h, w = size_2d
    feats = channels // 2
    grid_y, grid_x = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    y = grid_y.unsqueeze(0).float()
    x = grid_x.unsqueeze(0).float()
    eps, scale = 1e-6, 2 * math.pi
    y = y / (y[:, -1:, :] + eps) * scale
    x = x / (x[:, :, -1:] + eps) * scale
    dim_t = torch.arange(feats, dtype=torch.float32, device=device)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="trunc") / feats)
    pos_x = x[:, :, :, None] / dim_t
    pos_y = y[:, :, :, None] / dim_t
    pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
    pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
    return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)


def temporal_pe_rows(mem_pos_emb: Tensor, num_frames: int, max_interp_frames: int = 4) -> Tensor:
    """Per-memory-frame temporal embedding rows for a bank of ``T = num_frames`` frames (``docs/temporal-pe.md``).

    ``T <= max_interp_frames``: the first ``min(T, S)`` slots linearly interpolated (align_corners) to ``T`` rows
    (the identity when ``T <= S``). Larger ``T``: the slots are interpolated to ``max_interp_frames`` rows, reversed,
    stretched to ``T`` rows with PyTorch's legacy nearest resize and reversed back, so the newest frames share the
    last row. The reference's own interpolation calls are used so the float32 index arithmetic is identical.

    Args:
        mem_pos_emb: ``[S, D]`` slots.
        num_frames: T >= 1.
        max_interp_frames: the reference's ``max_T`` (4).

    Returns:
        ``[T, D]``.
    """
    if num_frames < 1:
        raise ValueError(f"temporal embedding needs at least one memory frame, got {num_frames}")
    slots = mem_pos_emb[:num_frames] if num_frames <= mem_pos_emb.shape[0] else mem_pos_emb
    if num_frames == 1:
        return slots[:1]
    dim = slots.shape[1]
    rows = slots.t().reshape(1, dim, -1)
    if num_frames <= max_interp_frames:
        rows = F.interpolate(rows, size=num_frames, mode="linear", align_corners=True)
    else:
        rows = F.interpolate(rows, size=max_interp_frames, mode="linear", align_corners=True)
        rows = torch.flip(F.interpolate(torch.flip(rows, dims=(-1,)), size=num_frames, mode="nearest"), dims=(-1,))
    return rows.view(dim, num_frames).t().contiguous()


def sinusoidal_rows(positions: Tensor, dim: int, temperature: float = 10000.0) -> Tensor:
    """Transformer sine-cosine embedding of integer positions: ``[N] -> [N, dim]``.

    Channel ``2i`` is ``sin(p / temperature^(2i / dim))`` and channel ``2i + 1`` the cosine of the same angle (an
    odd ``dim`` drops the last cosine), so the dot product of two rows depends only on the positions' difference.
    """
    half = torch.arange(0, dim, 2, dtype=torch.float32, device=positions.device)
    angles = positions.float()[:, None] / temperature ** (half / dim)[None, :]
    return torch.stack((angles.sin(), angles.cos()), dim=2).flatten(1)[:, :dim]


def sinusoidal_temporal_pe(num_frames: int, dim: int, device: torch.device | str = "cpu",
                           dtype: torch.dtype = torch.float32) -> "TemporalPE":
    """The weight-free temporal PE of a bank of ``T = num_frames`` frames (``docs/memory-ablations.md``).

    Bank position ``j`` gets :func:`sinusoidal_rows` of ``j``; the current frame, which would enter the bank next,
    gets the row of position ``T``, so the query-key term depends on how many positions back a memory frame is.

    Returns:
        A :class:`TemporalPE` with ``current`` ``[1, dim]`` and ``memory`` ``[T, dim]``.
    """
    if num_frames < 1:
        raise ValueError(f"temporal embedding needs at least one memory frame, got {num_frames}")
    rows = sinusoidal_rows(torch.arange(num_frames + 1, device=device), dim).to(dtype)
    return TemporalPE(current=rows[num_frames:], memory=rows[:num_frames])


@dataclass(frozen=True)
class TemporalPE:
    """The temporal embedding as one propagation uses it.

    Attributes:
        current: ``[1, D]`` ``cur_pos_emb``, added to the long-term query.
        memory: ``[T, D]`` rows added to the long-term keys of bank positions ``0 .. T-1``.
    """

    current: Tensor
    memory: Tensor

    def add_to_keys(self, keys: Tensor) -> Tensor:
        """``keys`` ``[T, L, B, D]`` plus the row of each frame."""
        return keys + self.memory[:, None, None, :]

    def add_to_query(self, query: Tensor) -> Tensor:
        """``query`` ``[L, B, D]`` plus ``cur_pos_emb``."""
        return query + self.current.view(1, 1, -1)
