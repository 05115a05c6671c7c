"""DeAOT's Gated Propagation Modules and their dual-branch stack (``docs/model.md``, DeAOT stack).

Two streams: visual ``X`` and identity ``Y`` (``[L, B, C]``; ``Y`` starts absent). Memories per layer are
``(K, V, IDV)``: keys ``[.., d_att]``, visual values and identity values ``[.., 2C]``; the long-term memory has a
leading ``T`` axis, the short-term memory (the previous frame) has none. As in :mod:`lstt`, layers hold nothing.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from aot_plus.models.layers.attention import GatedPropagation, LocalGatedPropagation
from aot_plus.models.layers.basic import DropPath, GroupNorm1D, seq_to_map, silu, xavier_init
from aot_plus.memory.bank import LayerMemory
from aot_plus.models.layers.lstt import LayerOutput, PropagationStack, StackOutput, long_term_inputs
from aot_plus.models.layers.position import TemporalPE


class GatedPropagationModule(nn.Module):
    """One GPM layer.

    Args:
        dim: width C of each branch.
        self_heads: heads of the self-propagation.
        att_heads: heads of the long/short-term propagation.
        d_att: per-head query/key width.
        first: layer 0 (no identity-branch input: no ``id_norm1``/``linear_ID_U``, ``linear_ID_V`` takes C).
        droppath: stochastic depth rate (training only).
        radius: short-term window radius.
        dilation: short-term window dilation.
        relative_emb: learned relative key embedding in the windowed propagation.
        dwconv_dropout: ``Dropout2d`` rate in the depthwise convs (training only).
        expand_ratio: value/gate expansion (2).
    """

    def __init__(self, dim: int, self_heads: int, att_heads: int, d_att: int, first: bool, droppath: float = 0.1,
                 radius: int = 7, dilation: int = 1, relative_emb: bool = True, dwconv_dropout: float = 0.1,
                 expand_ratio: float = 2.0) -> None:
        super().__init__()
        expand = int(dim * expand_ratio)
        self.dim, self.expand, self.key_dim = dim, expand, d_att * att_heads
        self.norm1 = nn.LayerNorm(dim)
        self.linear_QV = nn.Linear(dim, self.key_dim + expand)
        self.linear_U = nn.Linear(dim, expand)
        if first:
            self.linear_ID_V = nn.Linear(dim, expand)
        else:
            self.id_norm1 = nn.LayerNorm(dim)
            self.linear_ID_V = nn.Linear(2 * dim, expand)
            self.linear_ID_U = nn.Linear(dim, expand)
        self.first = first
        self.long_term_attn = GatedPropagation(dim, 2 * dim, att_heads, d_att, use_linear=False,
                                               expand_ratio=expand_ratio, dropout=dwconv_dropout)
        self.short_term_attn = LocalGatedPropagation(2 * dim, att_heads, d_att, radius, dilation, relative_emb,
                                                     expand_ratio=expand_ratio, dropout=dwconv_dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.id_norm2 = nn.LayerNorm(dim)
        self.self_attn = GatedPropagation(2 * dim, 2 * dim, self_heads, d_att, dropout=dwconv_dropout)
        self.droppath = DropPath(droppath, batch_dim=1)
        xavier_init(self)

    def identity_value(self, id_input: Optional[Tensor], id_emb: Tensor) -> Tensor:
        """``IDV = silu(linear_ID_V([B_, ID]))`` (layer 0: ``silu(linear_ID_V(ID))``)."""
        if id_input is None:
            return silu(self.linear_ID_V(id_emb))
        return silu(self.linear_ID_V(torch.cat([id_input, id_emb], dim=2)))

    def forward(self, x: Tensor, y: Optional[Tensor], size_2d: tuple[int, int], long_memory: Optional[LayerMemory],
                short_memory: Optional[LayerMemory], id_emb: Optional[Tensor] = None, tpe: Optional[TemporalPE] = None,
                need_mass: bool = False, need_keys: bool = False,
                memory_valid: Optional[Tensor] = None) -> LayerOutput:
        """Run the layer on the visual branch ``x`` and identity branch ``y`` (None for layer 0).

        Args:
            x: visual features ``[L, B, C]``.
            y: identity features ``[L, B, C]`` or None.
            size_2d: the grid ``(h, w)``.
            long_memory: ``(K, V, IDV)`` each ``[T, L, B, .]``; ignored when ``id_emb`` is given.
            short_memory: ``(K, V, IDV)`` each ``[L, B, .]``; ignored when ``id_emb`` is given.
            id_emb: reference mode: the frame's identity embedding.
            tpe: temporal PE for this propagation (long-term keys and query only).
            need_mass: return the long-term attention mass per memory frame.
            need_keys: return the long-term keys as attended (temporal PE added).
            memory_valid: ``[T]`` bool, False for the empty slots of a static-capacity memory (None: all filled).
        """
        a = self.norm1(x)
        query, raw_value = torch.split(self.linear_QV(a), [self.key_dim, self.expand], dim=2)
        key, value = query, silu(raw_value)
        gate = self.linear_U(a)
        if y is None:
            id_input = None
            gate = torch.cat([silu(gate), torch.ones_like(gate)], dim=-1)
        else:
            id_input = self.id_norm1(y)
            gate = silu(torch.cat([gate, self.linear_ID_U(id_input)], dim=-1))
        if id_emb is not None:
            short_memory = (key, value, self.identity_value(id_input, id_emb))
            long_memory = tuple(t[None] for t in short_memory)
            memory_valid = None
        mem_k, mem_v, mem_idv = long_memory
        lt_query, lt_keys = long_term_inputs(query, mem_k, tpe)
        lt_values = torch.cat([mem_v.flatten(0, 1), mem_idv.flatten(0, 1)], dim=-1)
        global_out, mass = self.long_term_attn(lt_query, lt_keys.flatten(0, 1), lt_values, gate, size_2d,
                                               mass_frames=mem_k.shape[0] if need_mass else None,
                                               frame_valid=memory_valid)
        short_k, short_v, short_idv = (seq_to_map(t, size_2d) for t in short_memory)
        local_out = self.short_term_attn(seq_to_map(query, size_2d), short_k, torch.cat([short_v, short_idv], dim=1),
                                         gate, size_2d)
        g, g_id = torch.split(global_out, self.dim, dim=-1)
        s, s_id = torch.split(local_out, self.dim, dim=-1)
        x = x + (g + s)
        y = (g_id + s_id) if y is None else y + (g_id + s_id)
        z = torch.cat([self.norm2(x), self.id_norm2(y)], dim=-1)
        r, r_id = torch.split(self.self_attn(z, z, z, z, size_2d)[0], self.dim, dim=-1)
        x = x + self.droppath(r)
        y = y + self.droppath(r_id)
        return LayerOutput(x, y, (key, value, id_input), mass, lt_keys if need_keys else None)

    def memorize(self, state: Sequence[Optional[Tensor]], id_emb: Tensor) -> tuple[LayerMemory, LayerMemory]:
        """The frame's ``(Kc, Vc, IDV)``, used for both the long- and the short-term memory."""
        key, value, id_input = state
        entry = (key, value, self.identity_value(id_input, id_emb))
        return entry, entry


class DualBranchGPM(PropagationStack):
    """A stack of GPM layers plus the decoder GroupNorm(s) over ``[X, Y]``; key prefix ``LSTT.``.

    Args:
        layers: the GPM layers.
        dim: width C of each branch.
        intermediate_norm: normalise every layer's output for the decoder (reference DeAOT: only the last).
    """

    def __init__(self, layers: Sequence[GatedPropagationModule], dim: int, intermediate_norm: bool = False) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self._init_norms(lambda: GroupNorm1D(2 * dim, groups=2), intermediate_norm)

    def forward(self, x: Tensor, size_2d: tuple[int, int], long_memories: Optional[Sequence[LayerMemory]] = None,
                short_memories: Optional[Sequence[LayerMemory]] = None, id_emb: Optional[Tensor] = None,
                tpe: Optional[TemporalPE] = None, need_mass: bool = False, need_keys: bool = False,
                memory_valid: Optional[Tensor] = None) -> StackOutput:
        """Propagate ``x`` ``[L, B, C]`` (reference mode when ``id_emb`` is given); features are ``[X_i, Y_i]``."""
        outputs, states, first, y = [], [], None, None
        for index, layer in enumerate(self.layers):
            result = layer(x, y, size_2d, None if id_emb is not None else long_memories[index],
                           None if id_emb is not None else short_memories[index], id_emb, tpe,
                           need_mass and index == 0, need_keys and index == 0, memory_valid)
            x, y = result.x, result.y
            outputs.append(torch.cat([x, y], dim=2))
            states.append(result.state)
            first = result if index == 0 else first
        return StackOutput(self._normalise(outputs), states, first.mass, first.keys)
