"""MobileNetV2 encoder at output stride 16 (``docs/model.md``, Encoders).

The module tree is torchvision's (``features.N.conv...``), so ``mobilenet_v2-b0353104.pth`` loads directly
(its ``classifier.*`` entries are ignored). Once the running stride reaches 16, later strides become 1 and a
dilation rate accumulates the skipped strides.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from aot_plus.models.encoders.frozen_bn import FrozenBatchNorm2d

NormFactory = Callable[[int], nn.Module]

# (expansion t, output channels c, repeats n, stride s) of the inverted-residual groups.
INVERTED_RESIDUAL_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))

# End index (exclusive) in ``features`` of the four output stages (strides 4, 8, 16, 16).
STAGE_ENDS: tuple[int, int, int, int] = (4, 7, 14, 19)


class ConvBNReLU6(nn.Sequential):
    """Convolution without bias, normalisation, ReLU6 (keys ``0.weight``, ``1.*``).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Square kernel size; padding is ``(kernel_size - 1) // 2 * dilation``.
        stride: Convolution stride.
        dilation: Convolution dilation.
        groups: Convolution groups (``in_channels`` for a depthwise convolution).
        norm_layer: Builds the normalisation layer for a channel count.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, groups: int = 1, norm_layer: NormFactory = FrozenBatchNorm2d) -> None:
        padding = (kernel_size - 1) // 2 * dilation
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups,
                      bias=False),
            norm_layer(out_channels),
            nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """Expand (1x1, skipped when ``expand_ratio == 1``), depthwise 3x3, project (1x1, linear).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Stride of the depthwise convolution.
        dilation: Dilation (and padding) of the depthwise convolution.
        expand_ratio: Hidden width as a multiple of ``in_channels``.
        norm_layer: Builds the normalisation layer for a channel count.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, dilation: int, expand_ratio: int,
                 norm_layer: NormFactory = FrozenBatchNorm2d) -> None:
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_residual = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU6(in_channels, hidden, kernel_size=1, norm_layer=norm_layer))
        layers += [
            ConvBNReLU6(hidden, hidden, stride=stride, dilation=dilation, groups=hidden, norm_layer=norm_layer),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            norm_layer(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to ``x`` ``[B, C_in, H, W]``."""
        out = self.conv(x)
        return x + out if self.use_residual else out


class MobileNetV2Encoder(nn.Module):
    """MobileNetV2 feature extractor returning ``[x4, x8, x16, x16']`` with 24/32/96/1280 channels.

    Args:
        norm_layer: Builds the normalisation layer for a channel count (frozen BN by default).
        output_stride: Largest stride; later strides turn into dilation.
    """

    def __init__(self, norm_layer: NormFactory = FrozenBatchNorm2d, output_stride: int = 16) -> None:
        super().__init__()
        in_channels = 32
        features: list[nn.Module] = [ConvBNReLU6(3, in_channels, stride=2, norm_layer=norm_layer)]
        current_stride, rate = 2, 1
        for expand, channels, repeats, stride in INVERTED_RESIDUAL_SETTING:
            if current_stride == output_stride:
                first_stride, first_dilation = 1, rate
                rate *= stride
            else:
                first_stride, first_dilation = stride, 1
                current_stride *= stride
            for index in range(repeats):
                features.append(InvertedResidual(
                    in_channels, channels, stride=first_stride if index == 0 else 1,
                    dilation=first_dilation if index == 0 else rate, expand_ratio=expand, norm_layer=norm_layer))
                in_channels = channels
        features.append(ConvBNReLU6(in_channels, 1280, kernel_size=1, norm_layer=norm_layer))
        self.features = nn.Sequential(*features)
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def stages(self) -> list[nn.Module]:
        """Modules frozen by ``freeze_at`` = 1..5: the stem conv, then ``features[0:4]``, ``[4:7]``, ..."""
        starts = (0,) + STAGE_ENDS[:-1]
        return [self.features[0]] + [self.features[start:end] for start, end in zip(starts, STAGE_ENDS)]

    def freeze(self, freeze_at: int) -> None:
        """Stop gradients of ``features[0]`` (``freeze_at >= 1``) and of stage k (``freeze_at >= k + 1``)."""
        for module in self.stages()[:max(freeze_at, 0)]:
            module.requires_grad_(False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Encode ``image`` ``[B, 3, H, W]`` into maps at strides 4, 8, 16, 16."""
        outputs = []
        x = image
        start = 0
        for end in STAGE_ENDS:
            for block in self.features[start:end]:
                x = block(x)
            outputs.append(x)
            start = end
        return outputs
