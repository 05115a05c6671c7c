"""Training-clip augmentation with OpenCV / NumPy / torch (``docs/augmentation.md``).

A :class:`Clip` holds the frames of one training sample in sample order (reference, previous, current...).
Geometric transforms draw once per clip and apply the same geometry to every frame and label; labels are
resized with nearest neighbour so ids (and the void value 255) are never mixed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch

from aot_plus.data.config import AugmentConfig
from aot_plus.data.photometric import photometric_frame

VOID = 255


@dataclass
class Clip:
    """One training sample before tensor conversion.

    Attributes:
        name: sequence name (the first clip's after a merge).
        frame_num: number of frames of the sequence.
        images: ``[H, W, 3]`` float32 RGB frames, 0..255 (values may overshoot after bicubic resizing).
        labels: ``[H, W]`` uint8 label maps: 0 background, 1..K objects, 255 void.
        obj_num: number of objects K.
    """

    name: str
    frame_num: int
    images: list[np.ndarray]
    labels: list[np.ndarray]
    obj_num: int


def largest_object_id(label: np.ndarray) -> int:
    """The largest id of a label other than void (0 when there is none)."""
    ids = present_ids(label)
    ids = ids[ids != VOID]
    return int(ids[-1]) if ids.size else 0


def random_scale(clip: Clip, rng: np.random.Generator, min_scale: float, max_scale: float,
                 short_edge: int | None) -> Clip:
    """Resize every frame by one factor U(min, max), relative to ``short_edge`` / the previous frame's short edge.

    Images use bicubic interpolation (not clipped), labels nearest neighbour.
    """
    factor = float(rng.uniform(min_scale, max_scale))
    if short_edge is not None:
        factor *= float(short_edge) / min(clip.labels[1].shape[:2])
    images = [cv2.resize(im, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC) for im in clip.images]
    labels = [cv2.resize(lb, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST) for lb in clip.labels]
    return dataclasses.replace(clip, images=images, labels=labels)


def balanced_crop(clip: Clip, rng: np.random.Generator, size: tuple[int, int], tries: int, min_pixels: int,
                  max_objects: int) -> Clip:
    """Object-aware random crop; objects are chosen on the reference crop and renumbered 1..K.

    Up to ``tries`` crop positions are drawn; the first whose reference crop holds an object with more than
    ``min_pixels`` pixels wins (the last position is used when none does). Kept ids become 1..K in ascending
    order (when more than ``max_objects``, a random subset in random order), void stays 255, every other id
    becomes background, in every frame.
    """
    height, width = clip.labels[1].shape[:2]
    crop_h, crop_w = min(size[0], height), min(size[1], width)
    kept: list[int] = []
    top = left = 0
    for _ in range(tries):
        top = int(rng.integers(0, height - crop_h + 1))
        left = int(rng.integers(0, width - crop_w + 1))
        counts = np.bincount(clip.labels[0][top:top + crop_h, left:left + crop_w].ravel(), minlength=256)
        kept = [int(i) for i in np.flatnonzero(counts[:VOID] > min_pixels) if i != 0]
        if kept:
            break
    if len(kept) > max_objects:
        kept = [kept[i] for i in rng.permutation(len(kept))[:max_objects]]
    lut = np.zeros(256, dtype=np.uint8)
    lut[VOID] = VOID
    for new_id, old_id in enumerate(kept, start=1):
        lut[old_id] = new_id
    images = [im[top:top + crop_h, left:left + crop_w] for im in clip.images]
    labels = [lut[lb[top:top + crop_h, left:left + crop_w]] for lb in clip.labels]
    return dataclasses.replace(clip, images=images, labels=labels, obj_num=len(kept))


def random_flip(clip: Clip, rng: np.random.Generator, prob: float) -> Clip:
    """Mirror every frame and label horizontally with probability ``prob``."""
    if rng.random() >= prob:
        return clip
    images = [np.ascontiguousarray(im[:, ::-1]) for im in clip.images]
    labels = [np.ascontiguousarray(lb[:, ::-1]) for lb in clip.labels]
    return dataclasses.replace(clip, images=images, labels=labels)


def random_pad(clip: Clip, rng: np.random.Generator, size: tuple[int, int],
               pad_value: Sequence[float]) -> Clip:
    """Pad every frame to ``size`` at one random offset: images with ``pad_value``, labels with 0."""
    height, width = clip.labels[0].shape[:2]
    extra_h, extra_w = size[0] - height, size[1] - width
    if extra_h == 0 and extra_w == 0:
        return clip
    if extra_h < 0 or extra_w < 0:
        raise ValueError(f"cannot pad a {height}x{width} clip to {size[0]}x{size[1]}")
    top = int(rng.integers(0, extra_h + 1))
    left = int(rng.integers(0, extra_w + 1))
    border = (top, extra_h - top, left, extra_w - left)
    images = [cv2.copyMakeBorder(im, *border, cv2.BORDER_CONSTANT, value=tuple(float(v) for v in pad_value))
              for im in clip.images]
    labels = [cv2.copyMakeBorder(lb, *border, cv2.BORDER_CONSTANT, value=0) for lb in clip.labels]
    return dataclasses.replace(clip, images=images, labels=labels)


def augment_clip(clip: Clip, cfg: AugmentConfig, max_objects: int, rng: np.random.Generator) -> Clip:
    """The training pipeline: random scale -> object-aware crop -> (photometric) -> flip -> pad."""
    clip = random_scale(clip, rng, cfg.min_scale, cfg.max_scale, cfg.short_edge)
    clip = balanced_crop(clip, rng, cfg.crop_size, cfg.crop_tries, cfg.crop_min_pixels, max_objects)
    if cfg.photometric.enabled:
        clip = dataclasses.replace(clip, images=[photometric_frame(im, cfg.photometric, rng) for im in clip.images])
    clip = random_flip(clip, rng, cfg.flip_prob)
    return random_pad(clip, rng, cfg.crop_size, cfg.pad_value)


def normalize_images(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``[..., H, W, 3]`` RGB 0..255 -> ``[..., 3, H, W]`` float32 tensor: /255, minus mean, over std.

    The input array is never modified.
    """
    planar = np.moveaxis(np.asarray(images, dtype=np.float32), -1, -3)
    scale = (1.0 / (255.0 * np.asarray(std, dtype=np.float32))).reshape(3, 1, 1)
    shift = (np.asarray(mean, dtype=np.float32) / np.asarray(std, dtype=np.float32)).reshape(3, 1, 1)
    out = np.empty(planar.shape, dtype=np.float32)
    np.multiply(planar, scale, out=out)
    out -= shift
    return torch.from_numpy(out)


def present_ids(label: np.ndarray) -> np.ndarray:
    """Sorted values occurring in a uint8 label map (faster than ``np.unique``)."""
    return np.flatnonzero(np.bincount(label.ravel(), minlength=256))


def clip_to_sample(clip: Clip, mean: Sequence[float], std: Sequence[float]) -> dict:
    """The training sample dict.

    Returns:
        ``images`` [T, 3, H, W] float32 normalised, ``labels`` [T, 1, H, W] int64 (255 = ignore), ``obj_num``
        int64 scalar tensor, ``seq_name`` str, ``frame_num`` int.
    """
    images = normalize_images(np.stack(clip.images), mean, std)
    labels = torch.from_numpy(np.stack(clip.labels).astype(np.int64)).unsqueeze(1)
    return {"images": images, "labels": labels, "obj_num": torch.tensor(max(clip.obj_num, 0), dtype=torch.int64),
            "seq_name": clip.name, "frame_num": clip.frame_num}
