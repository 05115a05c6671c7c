"""The FPN segmentation head (``docs/model.md``, Decoder); key prefix ``decoder.``."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aot_plus.models.layers.basic import ConvGN, xavier_init


class FPNSegmentationHead(nn.Module):
    """Decode transformer features plus the encoder shortcuts into stride-4 identity logits.

    Args:
        in_dim: channels of the (concatenated) transformer input.
        out_dim: output channels (background + identities).
        shortcut_dims: encoder channels of ``[x4, x8, x16, x16']``.
        hidden_dim: width at stride 16 (halved at strides 8 and 4).
        align_corners: bilinear upsampling setting.
        concat_inputs: decode the channel concatenation of every input (AOT) instead of only the last (DeAOT).
    """

    def __init__(self, in_dim: int, out_dim: int, shortcut_dims: Sequence[int], hidden_dim: int = 256,
                 align_corners: bool = True, concat_inputs: bool = True) -> None:
        super().__init__()
        self.align_corners = align_corners
        self.concat_inputs = concat_inputs
        self.conv_in = ConvGN(in_dim, hidden_dim, 1)
        self.conv_16x = ConvGN(hidden_dim, hidden_dim, 3)
        self.conv_8x = ConvGN(hidden_dim, hidden_dim // 2, 3)
        self.conv_4x = ConvGN(hidden_dim // 2, hidden_dim // 2, 3)
        self.adapter_16x = nn.Conv2d(shortcut_dims[-2], hidden_dim, 1)
        self.adapter_8x = nn.Conv2d(shortcut_dims[-3], hidden_dim, 1)
        self.adapter_4x = nn.Conv2d(shortcut_dims[-4], hidden_dim // 2, 1)
        self.conv_out = nn.Conv2d(hidden_dim // 2, out_dim, 1)
        xavier_init(self)

    def forward(self, inputs: Sequence[Tensor], shortcuts: Sequence[Tensor]) -> Tensor:
        """Decode.

        Args:
            inputs: stride-16 maps ``[B, C_i, h, w]`` (AOT: the projected map then every layer's output).
            shortcuts: the encoder features ``[x4, x8, x16, ...]``.

        Returns:
            Logits ``[B, out_dim, h4, w4]``.
        """
        x = torch.cat(list(inputs), dim=1) if self.concat_inputs else inputs[-1]
        x = F.relu(self.conv_in(x))
        x = F.relu(self.conv_16x(self.adapter_16x(shortcuts[-2]) + x))
        x = F.interpolate(x, size=shortcuts[-3].shape[-2:], mode="bilinear", align_corners=self.align_corners)
        x = F.relu(self.conv_8x(self.adapter_8x(shortcuts[-3]) + x))
        x = F.interpolate(x, size=shortcuts[-4].shape[-2:], mode="bilinear", align_corners=self.align_corners)
        x = F.relu(self.conv_4x(self.adapter_4x(shortcuts[-4]) + x))
        return self.conv_out(x)
