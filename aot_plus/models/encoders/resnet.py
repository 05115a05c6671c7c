"""ResNet-50 encoder without ``layer4`` at output stride 16 (``docs/model.md``, Encoders).

State-dict keys follow torchvision (``conv1``, ``bn1``, ``layer{1,2,3}.{i}.conv{1,2,3}``, ``downsample.{0,1}``),
so torchvision's ImageNet file loads directly (its ``layer4.*`` and ``fc.*`` entries are ignored).
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch
from torch import nn

from aot_plus.models.encoders.frozen_bn import FrozenBatchNorm2d

NormFactory = Callable[[int], nn.Module]


class Bottleneck(nn.Module):
    """torchvision "v1.5" bottleneck: the stride sits on the 3x3 convolution.

    Args:
        in_channels: Input channels.
        planes: Width of the 1x1/3x3 convolutions; the block outputs ``4 * planes`` channels.
        stride: Stride of the 3x3 convolution (and of the downsample branch).
        dilation: Dilation (and padding) of the 3x3 convolution.
        norm_layer: Builds the normalisation layer for a channel count.
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 norm_layer: NormFactory = FrozenBatchNorm2d) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=1, bias=False)
        self.bn1 = norm_layer(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=dilation,
                               dilation=dilation, bias=False)
        self.bn2 = norm_layer(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, kernel_size=1, bias=False)
        self.bn3 = norm_layer(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: Optional[nn.Sequential] = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                norm_layer(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to ``x`` ``[B, C_in, H, W]``."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNetEncoder(nn.Module):
    """ResNet stem plus three bottleneck stages; returns ``[x4, x8, x16, x16]``.

    Output stride 16: stage strides (1, 2, 2). The dilation 2 of the reference's stride-16 configuration
    belonged to the removed ``layer4``, so every convolution here has dilation 1.

    Args:
        blocks_per_stage: Bottleneck count of ``layer1..layer3`` ((3, 4, 6) for ResNet-50).
        norm_layer: Builds the normalisation layer for a channel count (frozen BN by default).
    """

    stage_strides = (1, 2, 2)
    stage_planes = (64, 128, 256)

    def __init__(self, blocks_per_stage: tuple[int, int, int] = (3, 4, 6),
                 norm_layer: NormFactory = FrozenBatchNorm2d) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_channels = 64
        for index, (blocks, planes, stride) in enumerate(
                zip(blocks_per_stage, self.stage_planes, self.stage_strides), start=1):
            layer = [Bottleneck(in_channels, planes, stride=stride, norm_layer=norm_layer)]
            in_channels = planes * Bottleneck.expansion
            layer += [Bottleneck(in_channels, planes, norm_layer=norm_layer) for _ in range(1, blocks)]
            self.add_module(f"layer{index}", nn.Sequential(*layer))
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
                nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def stages(self) -> list[nn.Module]:
        """Modules frozen by ``freeze_at`` = 1, 2, 3, 4: the stem, then ``layer1..layer3``."""
        return [nn.ModuleList([self.conv1, self.bn1]), self.layer1, self.layer2, self.layer3]

    def freeze(self, freeze_at: int) -> None:
        """Stop gradients of the stem (``freeze_at >= 1``) and of stage k (``freeze_at >= k + 1``)."""
        for module in self.stages()[:max(freeze_at, 0)]:
            module.requires_grad_(False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Encode ``image`` ``[B, 3, H, W]`` into 256/512/1024/1024-channel maps at strides 4, 8, 16, 16."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(image))))
        x4 = self.layer1(x)
        x8 = self.layer2(x4)
        x16 = self.layer3(x8)
        return [x4, x8, x16, x16]
