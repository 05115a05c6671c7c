"""AOT's Long Short-Term Transformer: the VOST block, the model-zoo block and the stack (``docs/model.md``, AOT stack).

Layers never hold memories. Each call receives the layer's long-term memory (``[T, L, B, C]`` keys and values in
bank order; with a static-capacity memory also ``memory_valid`` ``[T]``, False for the empty slots, which get no
attention) and short-term memory (the previous frame, ``[L, B, C]``), or, for a reference frame, the identity
embedding (the layer then attends to the frame's own key/value). It returns the new features and the frame's
*state* from which :meth:`memorize` builds the frame's memory entries once its mask is known.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor, nn

from aot_plus.memory.bank import LayerMemory
from aot_plus.models.layers.attention import LocalAttention, MultiheadAttention
from aot_plus.models.layers.basic import DropPath, GNActDWConv2d, seq_to_map, xavier_init
from aot_plus.models.layers.position import TemporalPE



@dataclass(frozen=True)
class LayerOutput:
    """One layer's result for the current frame.

    Attributes:
        x: visual features ``[L, B, C]``.
        y: DeAOT identity features ``[L, B, C]`` (None for AOT).
        state: the current-frame tensors :meth:`memorize` needs (AOT: ``(Kc, Vc, S)``; DeAOT: ``(Kc, Vc, B_)``).
        mass: layer-0 long-term attention mass per memory frame ``[B, L, T]`` when requested, else None.
        keys: the long-term keys ``[T, L, B, D]`` as the attention used them (temporal PE added) when requested.
    """

    x: Tensor
    y: Optional[Tensor]
    state: tuple[Optional[Tensor], ...]
    mass: Optional[Tensor] = None
    keys: Optional[Tensor] = None


def long_term_inputs(query: Tensor, keys: Tensor, tpe: Optional[TemporalPE]) -> tuple[Tensor, Tensor]:
    """Query and keys ``[T, L, B, D]`` of the long-term attention, with the temporal PE when given."""
    if tpe is not None:
        return tpe.add_to_query(query), tpe.add_to_keys(keys)
    return query, keys


class _AOTBlockBase(nn.Module):
    """Parts shared by both AOT blocks: self-attention, feed-forward and the long-term value projection."""

    def _init_feed_forward(self, dim: int, feedforward_dim: int, droppath: float) -> None:
        """Register the feed-forward (``norm3``, ``linear1``, depthwise-conv activation, ``linear2``) and DropPath."""
        self.norm3 = nn.LayerNorm(dim)
        self.linear1 = nn.Linear(dim, feedforward_dim)
        self.activation = GNActDWConv2d(feedforward_dim)
        self.linear2 = nn.Linear(feedforward_dim, dim)
        self.droppath = DropPath(droppath, batch_dim=1)

    def _self_attention(self, x: Tensor, pos: Tensor) -> Tensor:
        a = self.norm1(x)
        qk = a + pos
        return x + self.droppath(self.self_attn(qk, qk, a)[0])

    def _feed_forward(self, x: Tensor, size_2d: tuple[int, int]) -> Tensor:
        return x + self.droppath(self.linear2(self.activation(self.linear1(self.norm3(x)), size_2d)))

    def long_entry(self, key: Tensor, value: Tensor, id_emb: Tensor) -> tuple[Tensor, Tensor]:
        """The frame's long-term memory entry ``(Kc, linear_V(Vc + ID))``."""
        return key, self.linear_V(value + id_emb)

    def _attend_long_term(self, x: Tensor, pos: Tensor, long_memory: Optional[LayerMemory],
                          short_memory: Optional[LayerMemory], id_emb: Optional[Tensor], tpe: Optional[TemporalPE],
                          need_mass: bool, memory_valid: Optional[Tensor]
                          ) -> tuple[Tensor, Tensor, Tensor, LayerMemory, Tensor, Optional[Tensor], Tensor]:
        """Self-attention, then long-term attention; in reference mode (``id_emb`` given) the frame's own entry
        serves as both memories. Returns ``(x, query (= key), value, short_memory, long-term output, mass,
        long-term keys [T, L, B, D] as attended)``."""
        x = self._self_attention(x, pos)
        value = self.norm2(x)
        query = self.linear_Q(value)
        if id_emb is not None:
            short_memory = self.long_entry(query, value, id_emb)
            long_memory = tuple(t[None] for t in short_memory)
            memory_valid = None
        mem_k, mem_v = long_memory
        lt_query, lt_keys = long_term_inputs(query, mem_k, tpe)
        g, mass = self.long_term_attn(lt_query, lt_keys.flatten(0, 1), mem_v.flatten(0, 1),
                                      mass_frames=mem_k.shape[0] if need_mass else None, frame_valid=memory_valid)
        return x, query, value, short_memory, g, mass, lt_keys


class VOSTBlock(_AOTBlockBase):
    """The RMem/EMFS/AOT+ "simplified" LSTT block (``docs/model.md``, AOT stack).

    Args:
        dim: width C.
        self_heads: self-attention heads.
        att_heads: long/short-term attention heads.
        feedforward_dim: feed-forward width.
        droppath: stochastic depth rate (training only).
        linear_q: the reference ``MODEL_LINEAR_Q`` path (concatenated short-term keys, no ``norm4``).
    """

    def __init__(self, dim: int, self_heads: int, att_heads: int, feedforward_dim: int = 1024,
                 droppath: float = 0.1, linear_q: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.self_attn = MultiheadAttention(dim, self_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.linear_Q = nn.Linear(dim, dim)
        self.linear_V = nn.Linear(dim, dim)
        self.linear_QMem = nn.Linear(dim, dim)
        self.linear_VMem = nn.Linear(dim, dim)
        self.norm4 = None if linear_q else nn.LayerNorm(dim)
        # Allocated and stored in every RMem/EMFS checkpoint but never used by the reference forward.
        self.linear_KMem = nn.Linear(dim, dim)
        self.long_term_attn = MultiheadAttention(dim, att_heads, use_linear=False)
        self.short_term_attn = MultiheadAttention(dim, att_heads, use_linear=False)
        self._init_feed_forward(dim, feedforward_dim, droppath)
        xavier_init(self)

    def forward(self, x: Tensor, pos: Tensor, size_2d: tuple[int, int], long_memory: Optional[LayerMemory],
                short_memory: Optional[LayerMemory], id_emb: Optional[Tensor] = None, tpe: Optional[TemporalPE] = None,
                need_mass: bool = False, need_keys: bool = False,
                memory_valid: Optional[Tensor] = None) -> LayerOutput:
        """Run the block on ``x`` ``[L, B, C]``.

        Args:
            x: input features.
            pos: sine position embedding ``[L, B, C]``.
            size_2d: the grid ``(h, w)``.
            long_memory: ``(K, V)`` each ``[T, L, B, C]``; ignored when ``id_emb`` is given.
            short_memory: ``(K_s, V_s)`` each ``[L, B, C]``; ignored when ``id_emb`` is given.
            id_emb: reference mode: the frame's identity embedding ``[L, B, C]``.
            tpe: temporal PE for this propagation.
            need_mass: return the long-term attention mass per memory frame.
            need_keys: return the long-term keys as attended (temporal PE added).
            memory_valid: ``[T]`` bool, False for the empty slots of a static-capacity memory (None: all filled).
        """
        x, query, value, short_memory, g, mass, lt_keys = self._attend_long_term(x, pos, long_memory, short_memory,
                                                                                 id_emb, tpe, need_mass, memory_valid)
        key = query
        short_k, short_v = short_memory
        if self.norm4 is not None:
            s = self.short_term_attn(query, self.norm4(short_k + key), self.norm4(short_v + value))[0]
        else:
            s = self.short_term_attn(query, torch.cat((short_k, key), 0), torch.cat((short_v, value), 0))[0]
        x = x + g + s
        x = self._feed_forward(x, size_2d)
        return LayerOutput(x, None, (key, value, s), mass, lt_keys if need_keys else None)

    def memorize(self, state: Sequence[Optional[Tensor]], id_emb: Tensor) -> tuple[LayerMemory, LayerMemory]:
        """Long-term ``(Kc, linear_V(Vc + ID))`` and short-term ``(linear_QMem(S), linear_VMem(S + ID))`` entries."""
        key, value, s = state
        return self.long_entry(key, value, id_emb), (self.linear_QMem(s), self.linear_VMem(s + id_emb))


class ZooBlock(_AOTBlockBase):
    """The aot-benchmark (model zoo) LSTT block with windowed short-term attention (``docs/model.md``, AOT stack).

    Args:
        dim, self_heads, att_heads, feedforward_dim, droppath: as :class:`VOSTBlock`.
        radius: short-term window radius.
        dilation: short-term window dilation.
        relative_emb: learned relative embeddings in the windowed attention.
    """

    def __init__(self, dim: int, self_heads: int, att_heads: int, feedforward_dim: int = 1024,
                 droppath: float = 0.1, radius: int = 7, dilation: int = 1, relative_emb: bool = True) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.linear_Q = nn.Linear(dim, dim)
        self.linear_V = nn.Linear(dim, dim)
        self.long_term_attn = MultiheadAttention(dim, att_heads, use_linear=False)
        self.short_term_attn = LocalAttention(dim, att_heads, radius, dilation, relative_emb)
        self.norm2 = nn.LayerNorm(dim)
        self.self_attn = MultiheadAttention(dim, self_heads)
        self._init_feed_forward(dim, feedforward_dim, droppath)
        xavier_init(self)

    def forward(self, x: Tensor, pos: Tensor, size_2d: tuple[int, int], long_memory: Optional[LayerMemory],
                short_memory: Optional[LayerMemory], id_emb: Optional[Tensor] = None, tpe: Optional[TemporalPE] = None,
                need_mass: bool = False, need_keys: bool = False,
                memory_valid: Optional[Tensor] = None) -> LayerOutput:
        """Run the block; arguments as :meth:`VOSTBlock.forward` (the short-term memory is ``(K, V)`` of the
        previous frame, attended through a window)."""
        x, query, value, short_memory, g, mass, lt_keys = self._attend_long_term(x, pos, long_memory, short_memory,
                                                                                 id_emb, tpe, need_mass, memory_valid)
        key = query
        s = self.short_term_attn(seq_to_map(query, size_2d), seq_to_map(short_memory[0], size_2d),
                                 seq_to_map(short_memory[1], size_2d))
        x = x + (g + s)
        x = self._feed_forward(x, size_2d)
        return LayerOutput(x, None, (key, value, None), mass, lt_keys if need_keys else None)

    def memorize(self, state: Sequence[Optional[Tensor]], id_emb: Tensor) -> tuple[LayerMemory, LayerMemory]:
        """The frame's ``(Kc, linear_V(Vc + ID))``, used for both the long- and the short-term memory."""
        entry = self.long_entry(state[0], state[1], id_emb)
        return entry, entry


@dataclass(frozen=True)
class StackOutput:
    """What a transformer stack returns for one frame.

    Attributes:
        features: the decoder's transformer inputs, each ``[L, B, C']`` (normalised as the reference does).
        states: per layer, the state :meth:`memorize` needs.
        mass: layer 0's long-term attention mass per memory frame ``[B, L, T]`` when requested.
        keys: layer 0's long-term keys ``[T, L, B, D]`` as its attention used them (temporal PE added) when
            requested.
    """

    features: list[Tensor]
    states: list[tuple[Optional[Tensor], ...]]
    mass: Optional[Tensor]
    keys: Optional[Tensor] = None


class PropagationStack(nn.Module):
    """What the AOT and DeAOT stacks share: the decoder norms over the layer outputs and :meth:`memorize`.

    Subclasses set ``self.layers`` and call :meth:`_init_norms`.
    """

    def _init_norms(self, make_norm: Callable[[], nn.Module], intermediate_norm: bool) -> None:
        count = len(self.layers) if intermediate_norm else 1
        self.decoder_norms = nn.ModuleList(make_norm() for _ in range(count))
        self.intermediate_norm = intermediate_norm

    def _normalise(self, outputs: list[Tensor]) -> list[Tensor]:
        """The decoder inputs: the last output always normalised, the others only with ``intermediate_norm``."""
        outputs[-1] = self.decoder_norms[-1](outputs[-1])
        if self.intermediate_norm:
            outputs[:-1] = [norm(out) for norm, out in zip(self.decoder_norms[:-1], outputs[:-1])]
        return outputs

    def memorize(self, states: Sequence[Sequence[Optional[Tensor]]],
                 id_emb: Tensor) -> tuple[list[LayerMemory], list[LayerMemory]]:
        """Per layer, the frame's long-term and short-term memory entries given its identity embedding."""
        pairs = [layer.memorize(state, id_emb) for layer, state in zip(self.layers, states)]
        return [p[0] for p in pairs], [p[1] for p in pairs]


class LongShortTermTransformer(PropagationStack):
    """A stack of AOT blocks plus the decoder norms (``docs/model.md``, AOT stack); key prefix ``LSTT.``.

    Args:
        blocks: the layers (all :class:`VOSTBlock` or all :class:`ZooBlock`).
        dim: width C.
        intermediate_norm: normalise every layer's output for the decoder (else only the last).
        mask_token: allocate the zoo's unused ``mask_token`` parameter (zoo layout only).
    """

    def __init__(self, blocks: Sequence[nn.Module], dim: int, intermediate_norm: bool = True,
                 mask_token: bool = False) -> None:
        super().__init__()
        if mask_token:
            self.mask_token = nn.Parameter(torch.randn(1, 1, dim))
        self.layers = nn.ModuleList(blocks)
        self._init_norms(lambda: nn.LayerNorm(dim), intermediate_norm)

    def forward(self, x: Tensor, pos: Tensor, size_2d: tuple[int, int],
                long_memories: Optional[Sequence[LayerMemory]] = None,
                short_memories: Optional[Sequence[LayerMemory]] = None,
                id_emb: Optional[Tensor] = None, tpe: Optional[TemporalPE] = None,
                need_mass: bool = False, need_keys: bool = False,
                memory_valid: Optional[Tensor] = None) -> StackOutput:
        """Propagate ``x`` ``[L, B, C]`` through every layer (reference mode when ``id_emb`` is given)."""
        outputs, states, first = [], [], None
        for index, layer in enumerate(self.layers):
            result = layer(x, pos, size_2d, None if id_emb is not None else long_memories[index],
                           None if id_emb is not None else short_memories[index], id_emb, tpe,
                           need_mass and index == 0, need_keys and index == 0, memory_valid)
            x = result.x
            outputs.append(x)
            states.append(result.state)
            first = result if index == 0 else first
        return StackOutput(self._normalise(outputs), states, first.mass, first.keys)
