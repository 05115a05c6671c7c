"""Single-image augmentations with OpenCV / NumPy: colour jitter, grey-scale, blur, affine, random resized crop.

They re-implement the torchvision operations the reference pipelines use (``docs/augmentation.md``) on
``[H, W, 3]`` float32 RGB images in 0..255, so no torchvision is needed. Draws come from the caller's generator.
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from aot_plus.data.config import PhotometricConfig

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _grey(image: np.ndarray) -> np.ndarray:
    return image @ _LUMA


def adjust_brightness(image: np.ndarray, factor: float) -> np.ndarray:
    """Multiply every channel by ``factor``."""
    return np.clip(image * factor, 0.0, 255.0)


def adjust_contrast(image: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the image's mean grey level (``factor`` 1 keeps the image)."""
    mean = float(_grey(image).mean())
    return np.clip(image * factor + mean * (1.0 - factor), 0.0, 255.0)


def adjust_saturation(image: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the image's grey version (``factor`` 0 gives grey)."""
    return np.clip(image * factor + _grey(image)[..., None] * (1.0 - factor), 0.0, 255.0)


def adjust_hue(image: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue by ``shift`` of a full turn (in [-0.5, 0.5])."""
    hsv = cv2.cvtColor(np.clip(image, 0.0, 255.0).astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = np.mod(hsv[..., 0] + shift * 360.0, 360.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0


def colour_jitter(image: np.ndarray, rng: np.random.Generator, brightness: float, contrast: float,
                  saturation: float, hue: float) -> np.ndarray:
    """Brightness, contrast, saturation and hue changes with random factors, applied in a random order."""
    ops = []
    if brightness > 0:
        ops.append((adjust_brightness, float(rng.uniform(max(0.0, 1 - brightness), 1 + brightness))))
    if contrast > 0:
        ops.append((adjust_contrast, float(rng.uniform(max(0.0, 1 - contrast), 1 + contrast))))
    if saturation > 0:
        ops.append((adjust_saturation, float(rng.uniform(max(0.0, 1 - saturation), 1 + saturation))))
    if hue > 0:
        ops.append((adjust_hue, float(rng.uniform(-hue, hue))))
    out = np.clip(image, 0.0, 255.0)
    for i in rng.permutation(len(ops)):
        op, value = ops[i]
        out = op(out, value)
    return out.astype(np.float32)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """Grey version with three equal channels."""
    return np.repeat(_grey(image)[..., None], 3, axis=-1).astype(np.float32)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel size chosen by OpenCV)."""
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)


def photometric_frame(image: np.ndarray, cfg: PhotometricConfig, rng: np.random.Generator) -> np.ndarray:
    """aot-benchmark's ``v2`` colour augmentation of one frame: jitter, grey-scale, blur (each with its prob)."""
    out = np.clip(image, 0.0, 255.0).astype(np.float32)
    if rng.random() < cfg.jitter_prob:
        out = colour_jitter(out, rng, cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue)
    if rng.random() < cfg.grayscale_prob:
        out = to_grayscale(out)
    if rng.random() < cfg.blur_prob:
        out = gaussian_blur(out, float(rng.uniform(*cfg.blur_sigma)))
    return out


def random_affine(image: np.ndarray, label: np.ndarray, rng: np.random.Generator, rotation: float,
                  translate: float, scale_range: Sequence[float], shear: float,
                  fill: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Rotation, translation, scale and x-shear about the image centre (bicubic image, nearest label).

    Args:
        rotation: angle range in degrees (+-).
        translate: shift range as a fraction of each side (+-), rounded to whole pixels.
        scale_range: (min, max) scale.
        shear: x-shear range in degrees (+-).
        fill: RGB value outside the source image; labels are filled with 0.
    """
    height, width = label.shape[:2]
    angle = math.radians(float(rng.uniform(-rotation, rotation)))
    shift_x = round(float(rng.uniform(-translate * width, translate * width)))
    shift_y = round(float(rng.uniform(-translate * height, translate * height)))
    scale = float(rng.uniform(*scale_range))
    shear_x = math.radians(float(rng.uniform(-shear, shear)))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    linear = scale * rot @ np.array([[1.0, math.tan(shear_x)], [0.0, 1.0]])
    centre = np.array([(width - 1) * 0.5, (height - 1) * 0.5])
    offset = centre + np.array([shift_x, shift_y]) - linear @ centre
    matrix = np.concatenate([linear, offset[:, None]], axis=1)
    out_image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(float(v) for v in fill))
    out_label = cv2.warpAffine(label, matrix, (width, height), flags=cv2.INTER_NEAREST,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out_image, out_label


def random_resized_crop(image: np.ndarray, label: np.ndarray, rng: np.random.Generator, size: tuple[int, int],
                        area: Sequence[float], ratio: Sequence[float],
                        tries: int) -> tuple[np.ndarray, np.ndarray]:
    """A crop of random area and aspect ratio resized to ``size`` (height, width); central crop as fallback.

    ``ratio`` is relative to the output's aspect ratio (width / height).
    """
    height, width = label.shape[:2]
    base = size[1] / size[0]
    low, high = math.log(ratio[0] * base), math.log(ratio[1] * base)
    box = None
    for _ in range(tries):
        target = float(rng.uniform(*area)) * height * width
        aspect = math.exp(float(rng.uniform(low, high)))
        crop_w = int(round(math.sqrt(target * aspect)))
        crop_h = int(round(math.sqrt(target / aspect)))
        if 0 < crop_w <= width and 0 < crop_h <= height:
            box = (int(rng.integers(0, height - crop_h + 1)), int(rng.integers(0, width - crop_w + 1)), crop_h, crop_w)
            break
    if box is None:
        in_ratio = width / height
        if in_ratio < ratio[0] * base:
            crop_w, crop_h = width, int(round(width / (ratio[0] * base)))
        elif in_ratio > ratio[1] * base:
            crop_h, crop_w = height, int(round(height * ratio[1] * base))
        else:
            crop_h, crop_w = height, width
        box = ((height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w)
    top, left, crop_h, crop_w = box
    out_image = cv2.resize(image[top:top + crop_h, left:left + crop_w], (size[1], size[0]),
                           interpolation=cv2.INTER_CUBIC)
    out_label = cv2.resize(label[top:top + crop_h, left:left + crop_w], (size[1], size[0]),
                           interpolation=cv2.INTER_NEAREST)
    return out_image, out_label
