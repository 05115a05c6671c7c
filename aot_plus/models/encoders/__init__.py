"""Image encoders (MobileNetV2, ResNet-50, Swin-B): each maps ``[B, 3, H, W]`` to ``[x4, x8, x16, x16']``.

``x4, x8, x16`` are the decoder shortcuts at strides 4, 8, 16; ``x16'`` (stride 16) goes through the encoder
projector. For ResNet-50 and Swin-B, ``x16'`` is the same tensor as ``x16`` (``docs/model.md``, Encoders).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from torch import nn

from aot_plus.models.encoders.frozen_bn import FrozenBatchNorm2d
from aot_plus.models.encoders.mobilenetv2 import MobileNetV2Encoder
from aot_plus.models.encoders.resnet import ResNetEncoder
from aot_plus.models.encoders.swin import SwinEncoder

EncoderName = Literal["mobilenetv2", "resnet50", "swin_base"]
ENCODER_NAMES: tuple[str, ...] = get_args(EncoderName)


@dataclass(frozen=True)
class EncoderInfo:
    """Static facts about one encoder.

    Attributes:
        dims: Channels of ``[x4, x8, x16, x16']`` (the reference ``MODEL_ENCODER_DIM``).
        imagenet_file: File name of the ImageNet weights the reference starts from.
        imagenet_ignored: Glob patterns of keys in that file that have no place in the encoder.
        imagenet_absent: Glob patterns of encoder keys that the file lacks by design (they keep their init).
    """

    dims: tuple[int, int, int, int]
    imagenet_file: str
    imagenet_ignored: tuple[str, ...]
    imagenet_absent: tuple[str, ...] = ()


ENCODERS: dict[str, EncoderInfo] = {
    "mobilenetv2": EncoderInfo(
        dims=(24, 32, 96, 1280), imagenet_file="mobilenet_v2-b0353104.pth",
        imagenet_ignored=("classifier.*", "*num_batches_tracked")),
    "resnet50": EncoderInfo(
        dims=(256, 512, 1024, 1024), imagenet_file="resnet50-0676ba61.pth",
        imagenet_ignored=("layer4.*", "fc.*", "*num_batches_tracked")),
    "swin_base": EncoderInfo(
        dims=(128, 256, 512, 512), imagenet_file="swin_base_patch4_window7_224_22k.pth",
        imagenet_ignored=("head.*", "norm.*", "layers.3.*", "layers.2.downsample.*", "*attn_mask"),
        imagenet_absent=("norm0.*", "norm1.*", "norm2.*")),
}


def encoder_info(name: str) -> EncoderInfo:
    """Return the :class:`EncoderInfo` of ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; expected one of {', '.join(ENCODER_NAMES)}")
    return ENCODERS[name]


def encoder_dims(name: str) -> tuple[int, int, int, int]:
    """Channels of ``[x4, x8, x16, x16']`` for encoder ``name``."""
    return encoder_info(name).dims


def freeze(encoder: nn.Module, freeze_at: int) -> None:
    """Apply the ``freeze_at`` rule (``docs/model.md``, Encoders) to an encoder built by :func:`build_encoder`.

    CNNs: ``freeze_at >= 1`` freezes the stem, ``freeze_at >= k + 1`` stage k. Swin: the reference
    ``frozen_stages`` rule (``>= 0`` patch embedding, ``>= 2`` stages ``0 .. freeze_at - 2``).
    """
    if not isinstance(encoder, (MobileNetV2Encoder, ResNetEncoder, SwinEncoder)):
        raise TypeError(f"freeze() expects an encoder built by build_encoder, got {type(encoder).__name__}")
    encoder.freeze(freeze_at)


def build_encoder(name: EncoderName, freeze_at: int = 0, frozen_bn: bool = True,
                  drop_path: float = 0.3) -> nn.Module:
    """Build an encoder whose forward returns ``[x4, x8, x16, x16']``.

    Args:
        name: ``"mobilenetv2"``, ``"resnet50"`` or ``"swin_base"``.
        freeze_at: Stages whose parameters get ``requires_grad = False`` (see :func:`freeze`; -1: none).
        frozen_bn: CNNs only: use :class:`FrozenBatchNorm2d` (reference ``MODEL_FREEZE_BN``) instead of
            ``nn.BatchNorm2d``.
        drop_path: Swin only: largest stochastic-depth rate (reference 0.3).

    Returns:
        The encoder module (state-dict keys as in the released checkpoints, without the ``encoder.`` prefix).
    """
    encoder_info(name)
    norm_layer = FrozenBatchNorm2d if frozen_bn else nn.BatchNorm2d
    encoder: nn.Module
    if name == "mobilenetv2":
        encoder = MobileNetV2Encoder(norm_layer=norm_layer)
    elif name == "resnet50":
        encoder = ResNetEncoder(blocks_per_stage=(3, 4, 6), norm_layer=norm_layer)
    else:
        encoder = SwinEncoder(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32), window=7,
                              drop_path=drop_path, num_stages=3)
    freeze(encoder, freeze_at)
    return encoder


__all__ = ["ENCODERS", "ENCODER_NAMES", "EncoderInfo", "EncoderName", "FrozenBatchNorm2d", "MobileNetV2Encoder",
           "ResNetEncoder", "SwinEncoder", "build_encoder", "encoder_dims", "encoder_info", "freeze"]
