"""Typed configuration of the networks (the ``model`` section): every switch of ``docs/model.md``.

One dataclass covers both families and both checkpoint layouts; ``configs/models/<listing>.yaml`` holds the
values of every released layout (``aot_*``: the AOT model zoo, ``rmem_*``: the VOST-stage RMem/EMFS layout).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from aot_plus.models.encoders import encoder_dims

Family = Literal["aot", "deaot"]
EncoderName = Literal["mobilenetv2", "resnet50", "swin_base"]


@dataclass(frozen=True)
class TemporalPEConfig:
    """RMem's temporal positional embedding (``docs/temporal-pe.md``).

    Attributes:
        enabled: add ``cur_pos_emb`` / ``mem_pos_emb`` (reference ``USE_TEMPORAL_POSITIONAL_EMBEDDING``; the
            released R50 RMem/EMFS models have it).
        slots: rows of ``mem_pos_emb``: 4 (reference ``TEMPORAL_POSITIONAL_EMBEDDING_SLOT_4``) or 2.
        max_interp_frames: banks of up to this many frames interpolate the slots linearly; larger banks use the
            reversed nearest stretch (reference ``max_T = 4``, hard-coded there).
        kind: with ``enabled``, which embedding: ``learned`` (the reference's ``cur_pos_emb`` / ``mem_pos_emb``
            slots above) or ``sinusoidal`` (a fixed sine-cosine embedding of the bank position, no weights: the
            RMem "sin-cos" ablation, ``docs/memory-ablations.md``). ``slots`` and ``max_interp_frames`` apply to
            ``learned`` only.
    """

    enabled: bool = False
    slots: Literal[2, 4] = 4
    max_interp_frames: int = 4
    kind: Literal["learned", "sinusoidal"] = "learned"

    def __post_init__(self) -> None:
        if self.slots not in (2, 4):
            raise ValueError(f"model.temporal_pe.slots must be 2 or 4, got {self.slots}")
        if self.max_interp_frames < 1:
            raise ValueError(f"model.temporal_pe.max_interp_frames must be >= 1, got {self.max_interp_frames}")
        if self.kind not in ("learned", "sinusoidal"):
            raise ValueError(f"model.temporal_pe.kind must be 'learned' or 'sinusoidal', got {self.kind!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Network configuration (reference ``MODEL_*`` values; defaults are the VOST-stage AOTT).

    Attributes:
        family: ``aot`` (Long Short-Term Transformer) or ``deaot`` (Gated Propagation Modules).
        encoder: backbone: ``mobilenetv2``, ``resnet50`` or ``swin_base``.
        encoder_dims: channels of ``[x4, x8, x16, x16']`` (``MODEL_ENCODER_DIM``); None = the encoder's own.
        embed_dim: transformer width C (``MODEL_ENCODER_EMBEDDING_DIM``).
        num_layers: transformer layers (``MODEL_LSTT_NUM``).
        self_heads: heads of the self-attention (``MODEL_SELF_HEADS``; DeAOT 1).
        att_heads: heads of the long/short-term attention (``MODEL_ATT_HEADS``; DeAOT 1).
        att_dim: DeAOT query/key width; None = ``embed_dim // 2`` with one head, else ``embed_dim // att_heads``.
        feedforward_dim: AOT feed-forward width.
        aot_block: AOT block layout: ``vost`` (RMem/EMFS/AOT+ "simplified" block: global short-term attention
            over ``norm4(short memory + current)``, ``linear_QMem``/``linear_VMem``) or ``zoo`` (aot-benchmark
            block: windowed short-term attention, ``mask_token``). Ignored by DeAOT.
        linear_q: VOST block only: the reference ``MODEL_LINEAR_Q`` (True: short-term attention over the token
            concatenation of memory and current frame, no ``norm4``). Every released RMem/EMFS model: False.
        local_relative_emb: windowed attention (zoo AOT block, DeAOT) has learned relative embeddings
            (``relative_emb_k``, zoo also ``relative_emb_v``); every released model: True.
        window_radius: windowed attention radius (window ``2 r + 1``; reference 7).
        window_dilation: windowed attention dilation (reference 1).
        ignore_token: identity bank takes a 12th "ignore" channel (``MODEL_IGNORE_TOKEN``; VOST layout).
        align_corners: 16k+1 inputs, identity bank kernel 17/padding 8, bilinear resizes with align_corners
            (``MODEL_ALIGN_CORNERS``); False for Swin (multiples of 16, kernel 16).
        decoder_intermediate: AOT decoder reads the projected map and every layer's output
            (``MODEL_DECODER_INTERMEDIATE_LSTT``); DeAOT: False (last layer only).
        max_obj_num: identities per group (``MODEL_MAX_OBJ_NUM``); the decoder outputs ``max_obj_num + 1``.
        droppath: stochastic depth rate of the transformer residuals (training only).
        droppath_scaling: scale the rate linearly from 0 at the first layer to ``droppath`` at the last.
        dwconv_dropout: DeAOT ``Dropout2d`` inside the depthwise convs (training only).
        freeze_bn: every encoder BatchNorm is a FrozenBatchNorm2d (``MODEL_FREEZE_BN``).
        freeze_at: encoder stages without gradients (``TRAIN_ENCODER_FREEZE_AT``, ``docs/model.md``, Encoders).
        swin_drop_path: Swin-B stochastic depth rate.
        temporal_pe: RMem's temporal positional embedding.
    """

    family: Family = "aot"
    encoder: EncoderName = "mobilenetv2"
    encoder_dims: Optional[tuple[int, int, int, int]] = None
    embed_dim: int = 256
    num_layers: int = 1
    self_heads: int = 8
    att_heads: int = 8
    att_dim: Optional[int] = None
    feedforward_dim: int = 1024
    aot_block: Literal["vost", "zoo"] = "vost"
    linear_q: bool = False
    local_relative_emb: bool = True
    window_radius: int = 7
    window_dilation: int = 1
    ignore_token: bool = True
    align_corners: bool = True
    decoder_intermediate: bool = True
    max_obj_num: int = 10
    droppath: float = 0.1
    droppath_scaling: bool = False
    dwconv_dropout: float = 0.1
    freeze_bn: bool = True
    freeze_at: int = 2
    swin_drop_path: float = 0.3
    temporal_pe: TemporalPEConfig = field(default_factory=TemporalPEConfig)

    def __post_init__(self) -> None:
        if self.family not in ("aot", "deaot"):
            raise ValueError(f"model.family must be 'aot' or 'deaot', got {self.family!r}")
        if self.encoder_dims is not None and len(self.encoder_dims) != 4:
            raise ValueError(f"model.encoder_dims must list 4 channel counts, got {self.encoder_dims}")
        if self.num_layers < 1:
            raise ValueError(f"model.num_layers must be >= 1, got {self.num_layers}")
        for key in ("self_heads", "att_heads"):
            heads = getattr(self, key)
            if heads < 1 or self.embed_dim % heads:
                raise ValueError(f"model.{key} must divide model.embed_dim={self.embed_dim}, got {heads}")
        if self.max_obj_num < 1:
            raise ValueError(f"model.max_obj_num must be >= 1, got {self.max_obj_num}")
        if self.window_radius < 0 or self.window_dilation < 1:
            raise ValueError("model.window_radius must be >= 0 and model.window_dilation >= 1")

    @property
    def dims(self) -> tuple[int, int, int, int]:
        """Encoder channels of ``[x4, x8, x16, x16']``."""
        return tuple(self.encoder_dims) if self.encoder_dims is not None else encoder_dims(self.encoder)

    @property
    def deaot_att_dim(self) -> int:
        """DeAOT query/key width (reference: half the width with one head, else the head width)."""
        if self.att_dim is not None:
            return self.att_dim
        return self.embed_dim // 2 if self.att_heads == 1 else self.embed_dim // self.att_heads
