"""AOT: encoder + Long Short-Term Transformer + FPN decoder (``docs/model.md``)."""
from __future__ import annotations

from typing import Literal, Optional, Sequence

from torch import Tensor, nn

from aot_plus.models.decoder import FPNSegmentationHead
from aot_plus.models.layers.basic import map_to_seq
from aot_plus.memory.bank import LayerMemory
from aot_plus.models.layers.lstt import LongShortTermTransformer, StackOutput, VOSTBlock, ZooBlock
from aot_plus.models.layers.position import TemporalPE, sine_position_embedding
from aot_plus.models.vos import VOSModel


class AOT(VOSModel):
    """Associating Objects with Transformers, in either checkpoint layout.

    Args:
        encoder: the backbone (returns ``[x4, x8, x16, x16']``).
        encoder_dims: channels of those four maps.
        embed_dim: transformer width C.
        num_layers: number of LSTT blocks.
        self_heads: self-attention heads.
        att_heads: long/short-term attention heads.
        feedforward_dim: feed-forward width.
        block: ``vost`` (RMem/EMFS layout) or ``zoo`` (aot-benchmark layout, with ``LSTT.mask_token``).
        linear_q: VOST block's ``MODEL_LINEAR_Q`` path.
        droppaths: stochastic depth rate of each block.
        window_radius: zoo block's short-term window radius.
        window_dilation: zoo block's short-term window dilation.
        relative_emb: zoo block's relative embeddings in the windowed attention.
        max_obj_num: identities per group.
        ignore_token: identity bank with the extra ignore channel.
        align_corners: 16k+1 geometry and bilinear align_corners.
        decoder_intermediate: decode the projected map plus every block's output (else the last only).
        temporal_pe: add the temporal PE parameters (``[1, C]`` and ``[slots, C]``).
        temporal_pe_slots: rows of ``mem_pos_emb``.
        temporal_pe_max_interp: largest bank interpolated linearly (reference 4).
        temporal_pe_kind: ``learned`` (the parameters above) or ``sinusoidal`` (fixed, no parameters).
    """

    family = "aot"

    def __init__(self, encoder: nn.Module, encoder_dims: Sequence[int], embed_dim: int = 256, num_layers: int = 1,
                 self_heads: int = 8, att_heads: int = 8, feedforward_dim: int = 1024,
                 block: Literal["vost", "zoo"] = "vost", linear_q: bool = False,
                 droppaths: Optional[Sequence[float]] = None, window_radius: int = 7, window_dilation: int = 1,
                 relative_emb: bool = True, max_obj_num: int = 10, ignore_token: bool = True,
                 align_corners: bool = True, decoder_intermediate: bool = True, temporal_pe: bool = False,
                 temporal_pe_slots: int = 4, temporal_pe_max_interp: int = 4,
                 temporal_pe_kind: str = "learned") -> None:
        super().__init__()
        self._init_encoder(encoder, encoder_dims, embed_dim, max_obj_num, ignore_token, align_corners)
        self.embed_dim = embed_dim
        droppaths = list(droppaths) if droppaths is not None else [0.1] * num_layers
        if block == "vost":
            blocks = [VOSTBlock(embed_dim, self_heads, att_heads, feedforward_dim, rate, linear_q)
                      for rate in droppaths]
        elif block == "zoo":
            blocks = [ZooBlock(embed_dim, self_heads, att_heads, feedforward_dim, rate, window_radius,
                               window_dilation, relative_emb) for rate in droppaths]
        else:
            raise ValueError(f"unknown AOT block {block!r}; expected 'vost' or 'zoo'")
        self.LSTT = LongShortTermTransformer(blocks, embed_dim, intermediate_norm=decoder_intermediate,
                                             mask_token=block == "zoo")
        in_dim = embed_dim * (num_layers + 1) if decoder_intermediate else embed_dim
        self.decoder = FPNSegmentationHead(in_dim, max_obj_num + 1, encoder_dims, embed_dim, align_corners,
                                           concat_inputs=decoder_intermediate)
        self._build_identity_bank(embed_dim)
        self._build_temporal_pe(temporal_pe, temporal_pe_slots, embed_dim, temporal_pe_max_interp,
                                temporal_pe_kind)

    def _transformer(self, embedding: Tensor, long_memories: Optional[Sequence[LayerMemory]],
                     short_memories: Optional[Sequence[LayerMemory]], id_emb: Optional[Tensor],
                     tpe: Optional[TemporalPE], need_mass: bool, need_keys: bool,
                     memory_valid: Optional[Tensor]) -> StackOutput:
        batch, _, h, w = embedding.shape
        pos = map_to_seq(sine_position_embedding((h, w), self.embed_dim, device=embedding.device)
                         .to(embedding.dtype).expand(batch, -1, -1, -1))
        return self.LSTT(map_to_seq(embedding), pos, (h, w), long_memories, short_memories, id_emb, tpe, need_mass,
                         need_keys, memory_valid)
