"""Build a network from its :class:`~aot_plus.models.config.ModelConfig` (the only place that reads the config)."""
from __future__ import annotations

from aot_plus.models.aot import AOT
from aot_plus.models.config import ModelConfig
from aot_plus.models.deaot import DeAOT
from aot_plus.models.encoders import build_encoder
from aot_plus.models.vos import VOSModel


def droppath_rates(cfg: ModelConfig) -> list[float]:
    """Per-layer stochastic depth rates (constant, or scaled linearly from 0 with ``droppath_scaling``)."""
    if not cfg.droppath_scaling:
        return [cfg.droppath] * cfg.num_layers
    if cfg.num_layers == 1:
        return [0.0]
    return [cfg.droppath * index / (cfg.num_layers - 1) for index in range(cfg.num_layers)]


def build_model(cfg: ModelConfig) -> VOSModel:
    """Build the AOT or DeAOT network described by ``cfg`` (weights at their initialisation, train mode)."""
    encoder = build_encoder(cfg.encoder, freeze_at=cfg.freeze_at, frozen_bn=cfg.freeze_bn,
                            drop_path=cfg.swin_drop_path)
    tpe = cfg.temporal_pe
    common = dict(encoder=encoder, encoder_dims=cfg.dims, embed_dim=cfg.embed_dim, num_layers=cfg.num_layers,
                  self_heads=cfg.self_heads, att_heads=cfg.att_heads, droppaths=droppath_rates(cfg),
                  window_radius=cfg.window_radius, window_dilation=cfg.window_dilation,
                  relative_emb=cfg.local_relative_emb, max_obj_num=cfg.max_obj_num, ignore_token=cfg.ignore_token,
                  align_corners=cfg.align_corners, decoder_intermediate=cfg.decoder_intermediate,
                  temporal_pe=tpe.enabled, temporal_pe_slots=tpe.slots, temporal_pe_max_interp=tpe.max_interp_frames,
                  temporal_pe_kind=tpe.kind)
    if cfg.family == "aot":
        return AOT(feedforward_dim=cfg.feedforward_dim, block=cfg.aot_block, linear_q=cfg.linear_q, **common)
    return DeAOT(att_dim=cfg.deaot_att_dim, dwconv_dropout=cfg.dwconv_dropout, **common)
