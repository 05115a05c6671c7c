"""DeAOT: encoder + dual-branch Gated Propagation Modules + FPN decoder (``docs/model.md``)."""
from __future__ import annotations

from typing import Optional, Sequence

from torch import Tensor, nn

from aot_plus.models.decoder import FPNSegmentationHead
from aot_plus.models.layers.basic import map_to_seq
from aot_plus.models.layers.gpm import DualBranchGPM, GatedPropagationModule
from aot_plus.memory.bank import LayerMemory
from aot_plus.models.layers.lstt import StackOutput
from aot_plus.models.layers.position import TemporalPE
from aot_plus.models.vos import VOSModel


class DeAOT(VOSModel):
    """Decoupling features in hierarchical propagation, in either checkpoint layout.

    Args:
        encoder: the backbone (returns ``[x4, x8, x16, x16']``).
        encoder_dims: channels of those four maps.
        embed_dim: width C of each branch.
        num_layers: number of GPM layers.
        self_heads: self-propagation heads.
        att_heads: long/short-term propagation heads.
        att_dim: per-head query/key width (reference: C / 2 with one head).
        droppaths: stochastic depth rate of each layer.
        window_radius: short-term window radius.
        window_dilation: short-term window dilation.
        relative_emb: relative key embedding in the windowed propagation.
        dwconv_dropout: ``Dropout2d`` rate in the depthwise convs (training only).
        max_obj_num: identities per group.
        ignore_token: identity bank with the extra ignore channel.
        align_corners: 16k+1 geometry and bilinear align_corners.
        decoder_intermediate: decode every layer's normalised output (reference DeAOT: only the last).
        temporal_pe: add the temporal PE parameters (``[1, att_dim * att_heads]``, ``[slots, .]``).
        temporal_pe_slots: rows of ``mem_pos_emb``.
        temporal_pe_max_interp: largest bank interpolated linearly (reference 4).
        temporal_pe_kind: ``learned`` (the parameters above) or ``sinusoidal`` (fixed, no parameters).
    """

    family = "deaot"

    def __init__(self, encoder: nn.Module, encoder_dims: Sequence[int], embed_dim: int = 256, num_layers: int = 1,
                 self_heads: int = 1, att_heads: int = 1, att_dim: int = 128,
                 droppaths: Optional[Sequence[float]] = None, window_radius: int = 7, window_dilation: int = 1,
                 relative_emb: bool = True, dwconv_dropout: float = 0.1, max_obj_num: int = 10,
                 ignore_token: bool = True, align_corners: bool = True, decoder_intermediate: bool = False,
                 temporal_pe: bool = False, temporal_pe_slots: int = 4, temporal_pe_max_interp: int = 4,
                 temporal_pe_kind: str = "learned") -> None:
        super().__init__()
        self._init_encoder(encoder, encoder_dims, embed_dim, max_obj_num, ignore_token, align_corners)
        droppaths = list(droppaths) if droppaths is not None else [0.1] * num_layers
        layers = [GatedPropagationModule(embed_dim, self_heads, att_heads, att_dim, index == 0, rate, window_radius,
                                         window_dilation, relative_emb, dwconv_dropout)
                  for index, rate in enumerate(droppaths)]
        self.LSTT = DualBranchGPM(layers, embed_dim, intermediate_norm=decoder_intermediate)
        in_dim = embed_dim * (2 * num_layers + 1) if decoder_intermediate else 2 * embed_dim
        self.decoder = FPNSegmentationHead(in_dim, max_obj_num + 1, encoder_dims, embed_dim, align_corners,
                                           concat_inputs=decoder_intermediate)
        self._build_identity_bank(embed_dim)
        self.id_norm = nn.LayerNorm(embed_dim)
        self._build_temporal_pe(temporal_pe, temporal_pe_slots, att_dim * att_heads, temporal_pe_max_interp,
                                temporal_pe_kind)

    def embed_identity(self, id_map: Tensor) -> Tensor:
        """Identity embedding ``[L, B, C]``: the identity bank followed by ``id_norm`` over the channels."""
        emb = self.patch_wise_id_bank(id_map)
        emb = self.id_norm(emb.permute(2, 3, 0, 1)).permute(2, 3, 0, 1)
        return map_to_seq(emb)

    def _transformer(self, embedding: Tensor, long_memories: Optional[Sequence[LayerMemory]],
                     short_memories: Optional[Sequence[LayerMemory]], id_emb: Optional[Tensor],
                     tpe: Optional[TemporalPE], need_mass: bool, need_keys: bool,
                     memory_valid: Optional[Tensor]) -> StackOutput:
        h, w = embedding.shape[-2:]
        return self.LSTT(map_to_seq(embedding), (h, w), long_memories, short_memories, id_emb, tpe, need_mass,
                         need_keys, memory_valid)
