"""Test-time frame preparation: the reference evaluator's sizes, flips and scales (``docs/resizing.md``).

A frame is resized so that its long side is at most ``max_long_side`` (or its short side fitted to
``min_short_side``), multiplied by the scale factor, truncated, and each side snapped to the model's stride:
16k + 1 for align-corners models (ResNet / MobileNet), 16k otherwise (Swin), rounding half to even.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from aot_plus.data.transforms import normalize_images

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _snap(length: int, stride: int, align_corners: bool) -> int:
    if align_corners:
        if (length - 1) % stride:
            length = int(np.around((length - 1) / stride) * stride + 1)
    elif length % stride:
        length = int(np.around(length / stride) * stride)
    return length


def eval_size(height: int, width: int, *, scale: float = 1.0, max_long_side: Optional[float] = 1040.0,
              min_short_side: Optional[float] = None, align_corners: bool = True,
              stride: int = 16) -> tuple[int, int]:
    """The network input (height, width) for a frame of the given size.

    Args:
        height: original height.
        width: original width.
        scale: test-time scale factor.
        max_long_side: shrink so the long side is at most this (ignored when ``min_short_side`` is set).
        min_short_side: shrink so the short side is this, when it is longer (the reference never sets it).
        align_corners: snap to 16k + 1 (True) or 16k (False).
        stride: the encoder's largest stride.

    Example: 1080 x 1920 -> (577, 1041); 480 x 854 -> (481, 849).
    """
    factor = None
    if min_short_side is not None:
        if min(height, width) > min_short_side:
            factor = float(min_short_side) / min(height, width)
    elif max_long_side is not None and max(height, width) > max_long_side:
        factor = float(max_long_side) / max(height, width)
    new_h, new_w = (height, width) if factor is None else (factor * height, factor * width)
    new_h, new_w = int(new_h * scale), int(new_w * scale)
    return _snap(new_h, stride, align_corners), _snap(new_w, stride, align_corners)


def prepare_frame(image: np.ndarray, size: tuple[int, int], flip: bool = False,
                  mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """Resize (bicubic, unless the size is unchanged), optionally mirror, and normalise a frame.

    Args:
        image: ``[H, W, 3]`` float32 RGB 0..255.
        size: target (height, width), usually from :func:`eval_size`.
        flip: mirror horizontally after resizing.

    Returns:
        ``[1, 3, height, width]`` float32 tensor.
    """
    if image.shape[:2] != tuple(size):
        image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
    if flip:
        image = image[:, ::-1]
    return normalize_images(image, mean, std).unsqueeze(0)


def prepare_label(label: np.ndarray, size: Optional[tuple[int, int]] = None, flip: bool = False) -> torch.Tensor:
    """A label map as a ``[1, 1, h, w]`` int64 tensor, mirrored and resized with PyTorch's ``nearest``."""
    if flip:
        label = label[:, ::-1]
    tensor = torch.from_numpy(np.ascontiguousarray(label).astype(np.int64))[None, None]
    if size is not None and tuple(tensor.shape[-2:]) != tuple(size):
        tensor = F.interpolate(tensor.float(), size=tuple(size), mode="nearest").long()
    return tensor


@dataclass(frozen=True)
class FrameView:
    """One test-time copy of a frame.

    Attributes:
        scale: its scale factor.
        flip: whether it is mirrored (its predictions must be mirrored back).
        image: ``[1, 3, h, w]`` normalised tensor.
    """

    scale: float
    flip: bool
    image: torch.Tensor


def test_time_views(image: np.ndarray, augmentations: Sequence[tuple[float, bool]] = ((1.0, False),), *,
                    max_long_side: Optional[float] = 1040.0, min_short_side: Optional[float] = None,
                    align_corners: bool = True, mean: Sequence[float] = IMAGENET_MEAN,
                    std: Sequence[float] = IMAGENET_STD) -> list[FrameView]:
    """The test-time copies of a frame, one per ``(scale, flip)`` pair, in the order given.

    The order is defined once, by :attr:`aot_plus.inference.config.EvalConfig.augmentations`.
    """
    height, width = image.shape[:2]
    views = []
    for scale, mirrored in augmentations:
        size = eval_size(height, width, scale=scale, max_long_side=max_long_side, min_short_side=min_short_side,
                         align_corners=align_corners)
        views.append(FrameView(scale, mirrored, prepare_frame(image, size, mirrored, mean, std)))
    return views


test_time_views.__test__ = False  # a library function, not a pytest test, when imported into a test module
