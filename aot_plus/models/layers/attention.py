"""Attention primitives of AOT and DeAOT (``docs/model.md``, Attention primitives).

Global attention uses PyTorch's fused ``scaled_dot_product_attention`` (flash / memory-efficient kernels on CUDA)
unless the caller asks for the attention mass per memory frame (the relevance policies, at insertion frames only);
then the probabilities are computed explicitly in the input dtype, as the reference does when it records them.
Long-term attention over a static-capacity memory (``docs/static-memory.md``) takes a per-frame validity mask:
the tokens of empty slots get no attention, so the output equals the attention over the filled slots alone.

Windowed (local) attention is pure PyTorch: each band of query rows is multiplied with the keys (values) its
windows reach in one matrix product, and the window entries are gathered from (scattered into) that product, so
no pass per window offset and no ``(2r+1)^2``-fold copy of the keys is made.
"""
from __future__ import annotations

import math
from typing import Iterator, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aot_plus.models.layers.basic import DWConv2d, large_negative, silu, xavier_init

Mass = Optional[Tensor]


def _split_heads(x: Tensor, heads: int) -> Tensor:
    """``[L, B, heads * d]`` -> ``[B, heads, L, d]`` (a view). Batch-first, then heads: the layout inductor's
    attention patterns expect (a direct ``permute(1, 2, 0, 3)`` made its masked-SDPA rewrite fail on CPU)."""
    length, batch, _ = x.shape
    return x.permute(1, 0, 2).reshape(batch, length, heads, -1).transpose(1, 2)


def attend(q: Tensor, k: Tensor, v: Tensor, heads: int, mass_frames: Optional[int] = None,
           frame_valid: Optional[Tensor] = None) -> tuple[Tensor, Mass]:
    """Multi-head softmax attention on sequences.

    Args:
        q: ``[Lq, B, heads * dq]`` queries (unscaled).
        k: ``[Lk, B, heads * dq]`` keys.
        v: ``[Lk, B, heads * dv]`` values.
        heads: number of heads; channel ``c`` belongs to head ``c // d``.
        mass_frames: when given, ``Lk = T * L`` memory tokens of ``T = mass_frames`` frames (frame-major) and the
            attention mass per frame is returned: probabilities averaged over heads, summed over each frame's
            tokens, ``[B, Lq, T]``.
        frame_valid: ``[T]`` bool over ``Lk = T * L`` memory tokens (frame-major): frames marked False get no
            attention (empty slots of a static-capacity memory; at least one frame must be valid). Their mass is 0.

    Returns:
        ``[Lq, B, heads * dv]`` (heads concatenated in order) and the mass or None.
    """
    lq, batch, _ = q.shape
    qh, kh, vh = (_split_heads(x, heads) for x in (q, k, v))
    key_valid = None
    if frame_valid is not None:
        key_valid = frame_valid[:, None].expand(-1, k.shape[0] // frame_valid.shape[0]).reshape(1, 1, 1, -1)
    if mass_frames is None:
        out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=key_valid)
        mass = None
    else:
        logits = (qh / math.sqrt(qh.shape[-1])) @ kh.transpose(-1, -2)
        if key_valid is not None:
            logits = logits.masked_fill(~key_valid, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        out = probs @ vh
        mass = probs.view(batch, heads, lq, mass_frames, -1).mean(dim=1).sum(dim=-1)
    return out.permute(2, 0, 1, 3).reshape(lq, batch, -1), mass


class MultiheadAttention(nn.Module):
    """AOT multi-head attention (``docs/model.md``); keys ``linear_{Q,K,V}`` (with ``use_linear``), ``projection``.

    Args:
        dim: model width C.
        heads: number of heads (head width ``C / heads``).
        use_linear: project Q, K, V with their own linears first (the self-attention).
    """

    def __init__(self, dim: int, heads: int, use_linear: bool = True) -> None:
        super().__init__()
        self.heads = heads
        if use_linear:
            self.linear_Q = nn.Linear(dim, dim)
            self.linear_K = nn.Linear(dim, dim)
            self.linear_V = nn.Linear(dim, dim)
        self.use_linear = use_linear
        self.projection = nn.Linear(dim, dim)
        xavier_init(self)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, mass_frames: Optional[int] = None,
                frame_valid: Optional[Tensor] = None) -> tuple[Tensor, Mass]:
        """Attend ``q`` ``[Lq, B, C]`` over ``k``, ``v`` ``[Lk, B, C]``; see :func:`attend` for ``mass_frames`` and
        ``frame_valid``."""
        if self.use_linear:
            q, k, v = self.linear_Q(q), self.linear_K(k), self.linear_V(v)
        out, mass = attend(q, k, v, self.heads, mass_frames, frame_valid)
        return self.projection(out), mass


class GatedPropagation(nn.Module):
    """DeAOT gated attention (``docs/model.md``): ``softmax(Q K^T / sqrt(d_att)) V * U``, depthwise conv, projection.

    Args:
        d_qk: query/key input width (with ``use_linear``).
        d_vu: value/gate input width; the output width.
        heads: number of heads.
        d_att: per-head query/key width.
        use_linear: project Q (= K), V and U with ``linear_QK``, ``linear_V1/V2``, ``linear_U1/U2``.
        expand_ratio: the value/gate width is ``expand_ratio * d_vu``.
        dropout: ``Dropout2d`` rate of the depthwise conv (training only).
    """

    def __init__(self, d_qk: int, d_vu: int, heads: int, d_att: int, use_linear: bool = True,
                 expand_ratio: float = 2.0, dropout: float = 0.1) -> None:
        super().__init__()
        self.heads = heads
        self.d_vu = d_vu
        self.expand_dim = int(d_vu * expand_ratio)
        self.use_linear = use_linear
        if use_linear:
            half = self.expand_dim // 2
            self.linear_QK = nn.Linear(d_qk, d_att * heads)
            self.linear_V1 = nn.Linear(d_vu // 2, half)
            self.linear_V2 = nn.Linear(d_vu // 2, half)
            self.linear_U1 = nn.Linear(d_vu // 2, half)
            self.linear_U2 = nn.Linear(d_vu // 2, half)
        self.dw_conv = DWConv2d(self.expand_dim, dropout)
        self.projection = nn.Linear(self.expand_dim, d_vu)
        xavier_init(self)

    def _join_halves(self, first: Tensor, second: Tensor) -> Tensor:
        if self.heads == 1:
            return torch.cat([first, second], dim=-1)
        length, batch, _ = first.shape
        per_head = self.expand_dim // self.heads // 2
        joined = torch.cat([first.view(length, batch, self.heads, per_head),
                            second.view(length, batch, self.heads, per_head)], dim=-1)
        return joined.view(length, batch, self.expand_dim)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, u: Tensor, size_2d: tuple[int, int],
                mass_frames: Optional[int] = None, frame_valid: Optional[Tensor] = None) -> tuple[Tensor, Mass]:
        """Propagate ``v`` to the queries, gated by ``u`` ``[Lq, B, expand]``; see :func:`attend` for the mass and
        ``frame_valid``."""
        if self.use_linear:
            q = k = self.linear_QK(q)
            v1, v2 = torch.split(v, self.d_vu // 2, dim=-1)
            v = silu(self._join_halves(self.linear_V1(v1), self.linear_V2(v2)))
            u1, u2 = torch.split(u, self.d_vu // 2, dim=-1)
            u = silu(self._join_halves(self.linear_U1(u1), self.linear_U2(u2)))
        out, mass = attend(q, k, v, self.heads, mass_frames, frame_valid)
        out = self.dw_conv(out * u, size_2d)
        return self.projection(out), mass


def _window_index(size_2d: tuple[int, int], radius: int, dilation: int, device: torch.device) -> Tensor:
    """``[W*W, h, w]`` long: flat index ``y * w + x`` of the key that window position ``n = dy * W + dx`` of each
    query reads, or -1 where that key lies outside the map."""
    h, w = size_2d
    steps = torch.arange(-radius, radius + 1, device=device) * dilation
    ys = torch.arange(h, device=device)[None, :] + steps[:, None]
    xs = torch.arange(w, device=device)[None, :] + steps[:, None]
    valid = ((ys >= 0) & (ys < h))[:, None, :, None] & ((xs >= 0) & (xs < w))[None, :, None, :]
    index = ys[:, None, :, None] * w + xs[None, :, None, :]
    return torch.where(valid, index, -1).reshape(-1, h, w)


def window_valid(size_2d: tuple[int, int], radius: int, dilation: int, device: torch.device) -> Tensor:
    """``[W*W, h, w]`` bool: whether window position ``n = dy * W + dx`` of each query reads inside the map."""
    return _window_index(size_2d, radius, dilation, device) >= 0


def _window_bands(x: Tensor, radius: int, dilation: int,
                  max_elements: int) -> Iterator[tuple[int, int, Tensor, Tensor]]:
    """Split the queries of an ``[N, c, h, w]`` map into bands of rows, each with the key rows its windows reach.

    Yields ``(y0, y1, keys, index)``: ``keys`` ``[N, c, Lk + 1]`` are the ``Lk`` map positions of rows
    ``y0 - r * dil .. y1 + r * dil`` (clipped to the map) followed by one zero column; ``index`` ``[N, W*W, Lq]``
    (``Lq = (y1 - y0) * w``) gives for each window position of each band query its column in ``keys`` (the zero
    column outside the map). Bands hold as many rows as keep the ``[Lk + 1, Lq]`` band matrix near ``max_elements``.
    """
    n, c, h, w = x.shape
    reach = radius * dilation
    # A band of R rows multiplies R * w queries with at most (R + 2 * reach) * w keys.
    budget = max_elements // (n * w * w)
    rows = h if h * h <= budget else max(1, math.isqrt(reach * reach + budget) - reach)
    index_map = _window_index((h, w), radius, dilation, x.device)
    for y0 in range(0, h, rows):
        y1 = min(h, y0 + rows)
        k0, k1 = max(0, y0 - reach), min(h, y1 + reach)
        keys = F.pad(x[:, :, k0:k1].reshape(n, c, -1), (0, 1))
        band = index_map[:, y0:y1].reshape(1, index_map.shape[0], -1)
        index = torch.where(band >= 0, band - k0 * w, (k1 - k0) * w).expand(n, -1, -1)
        yield y0, y1, keys, index


def window_logits(q: Tensor, k: Tensor, radius: int, dilation: int, max_elements: int = 1 << 24) -> Tensor:
    """Dot products of each query with the keys of its window (out-of-map keys read as zero).

    Each band of query rows is multiplied with all keys its windows reach in one matrix product, and the window
    entries are gathered from it: for the small maps of VOS the full ``[L, L]`` product is far cheaper than a pass
    per window offset or an unfolded ``(2r+1)^2``-fold copy of the keys.

    Args:
        q: ``[N, d, h, w]`` (already scaled).
        k: ``[N, d, h, w]``.
        radius: window radius r (window ``W = 2 r + 1``).
        dilation: window dilation.
        max_elements: rough bound on the elements of one band's query-key product.

    Returns:
        ``[N, W*W, h, w]``, window position ``n = dy * W + dx`` = key offset ``((dy - r) * dil, (dx - r) * dil)``.
    """
    n, d, h, w = q.shape
    bands = []
    for y0, y1, keys, index in _window_bands(k, radius, dilation, max_elements):
        products = keys.transpose(1, 2) @ q[:, :, y0:y1].reshape(n, d, -1)
        bands.append(products.gather(1, index))
    return torch.cat(bands, dim=-1).view(n, -1, h, w)


def window_aggregate(probs: Tensor, v: Tensor, radius: int, dilation: int, max_elements: int = 1 << 24) -> Tensor:
    """Sum of the window's values weighted by the attention probabilities (out-of-map values are zero).

    The probabilities of a band of query rows are scattered into a ``[keys, queries]`` matrix (zero outside the
    windows) that multiplies the values the band's windows reach; see :func:`window_logits`.

    Args:
        probs: ``[N, W*W, h, w]``.
        v: ``[N, c, h, w]``.
        radius: window radius r.
        dilation: window dilation.
        max_elements: rough bound on the elements of one band's probability matrix.

    Returns:
        ``[N, c, h, w]``.
    """
    n, c, h, w = v.shape
    bands = []
    for y0, y1, values, index in _window_bands(v, radius, dilation, max_elements):
        band = probs[:, :, y0:y1].reshape(n, probs.shape[1], -1)
        weights = band.new_zeros(n, values.shape[-1], band.shape[-1]).scatter(1, index, band)
        bands.append(values @ weights)
    return torch.cat(bands, dim=-1).view(n, c, h, w)


def window_softmax(logits: Tensor, valid: Tensor) -> Tensor:
    """Softmax over the window axis (dim 1 of ``[N, W*W, h, w]``) with out-of-map positions at probability 0."""
    return torch.softmax(logits.masked_fill(~valid, large_negative(logits.dtype)), dim=1)


class LocalGatedPropagation(nn.Module):
    """DeAOT windowed gated attention (``docs/model.md``); keys ``relative_emb_k``, ``dw_conv``, ``projection``.

    Args:
        d_vu: output width; values and gates are ``expand_ratio * d_vu`` wide.
        heads: number of heads.
        d_att: per-head query/key width.
        radius: window radius r (window ``2 r + 1``).
        dilation: window dilation.
        relative_emb: learned per-window-position logit bias computed from the query.
        expand_ratio: value/gate expansion.
        dropout: ``Dropout2d`` rate of the depthwise conv (training only).
    """

    def __init__(self, d_vu: int, heads: int, d_att: int, radius: int = 7, dilation: int = 1,
                 relative_emb: bool = True, expand_ratio: float = 2.0, dropout: float = 0.1) -> None:
        super().__init__()
        self.heads = heads
        self.d_att = d_att
        self.radius = radius
        self.dilation = dilation
        self.expand_dim = int(d_vu * expand_ratio)
        window = (2 * radius + 1) ** 2
        self.relative_emb_k = (nn.Conv2d(d_att * heads, heads * window, kernel_size=1, groups=heads)
                               if relative_emb else None)
        self.dw_conv = DWConv2d(self.expand_dim, dropout)
        self.projection = nn.Linear(self.expand_dim, d_vu)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, u: Tensor, size_2d: tuple[int, int]) -> Tensor:
        """Attend each query ``q`` ``[B, heads*d_att, h, w]`` over its window of ``k`` (same shape) and ``v``
        ``[B, expand, h, w]``; gate ``u`` is ``[L, B, expand]``. Returns ``[L, B, d_vu]``."""
        batch, _, h, w = v.shape
        heads = self.heads
        logits = window_logits((q / math.sqrt(self.d_att)).reshape(batch * heads, self.d_att, h, w),
                               k.reshape(batch * heads, self.d_att, h, w), self.radius, self.dilation)
        if self.relative_emb_k is not None:
            logits = logits + self.relative_emb_k(q).view(batch * heads, -1, h, w)
        probs = window_softmax(logits, window_valid((h, w), self.radius, self.dilation, q.device))
        agg = window_aggregate(probs, v.reshape(batch * heads, -1, h, w), self.radius, self.dilation)
        agg = agg.view(batch, -1, h * w).permute(2, 0, 1)
        out = self.dw_conv(agg * u, size_2d)
        return self.projection(out)


class LocalAttention(nn.Module):
    """Zoo AOT windowed multi-head attention (``docs/model.md``, aot-benchmark ``MultiheadLocalAttentionV2``).

    Keys: ``relative_emb_v`` ``[heads, C/heads, W*W]`` (a learned value bias per window position),
    ``relative_emb_k`` (grouped 1x1 conv), ``projection``.

    Args:
        dim: model width C.
        heads: number of heads.
        radius: window radius r.
        dilation: window dilation.
        relative_emb: learned relative key/value embeddings.
    """

    def __init__(self, dim: int, heads: int, radius: int = 7, dilation: int = 1, relative_emb: bool = True) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.radius = radius
        self.dilation = dilation
        window = (2 * radius + 1) ** 2
        if relative_emb:
            self.relative_emb_v = nn.Parameter(torch.zeros(heads, dim // heads, window))
            self.relative_emb_k = nn.Conv2d(dim, heads * window, kernel_size=1, groups=heads)
        else:
            self.relative_emb_v = None
            self.relative_emb_k = None
        self.projection = nn.Linear(dim, dim)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Attend ``q`` over its window of ``k``, ``v`` (all ``[B, C, h, w]``); returns ``[L, B, C]``."""
        batch, channels, h, w = v.shape
        heads, head_dim = self.heads, self.head_dim
        logits = window_logits((q / math.sqrt(head_dim)).reshape(batch * heads, head_dim, h, w),
                               k.reshape(batch * heads, head_dim, h, w), self.radius, self.dilation)
        if self.relative_emb_k is not None:
            logits = logits + self.relative_emb_k(q).view(batch * heads, -1, h, w)
        probs = window_softmax(logits, window_valid((h, w), self.radius, self.dilation, q.device))
        agg = window_aggregate(probs, v.reshape(batch * heads, head_dim, h, w), self.radius, self.dilation)
        agg = agg.view(batch, heads, head_dim, h * w)
        if self.relative_emb_v is not None:
            bias = torch.einsum("bhnl,hcn->bhcl", probs.view(batch, heads, -1, h * w), self.relative_emb_v)
            agg = agg + bias
        out = agg.reshape(batch, channels, h * w).permute(2, 0, 1)
        return self.projection(out)
