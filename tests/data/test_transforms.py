"""Invariants of the clip augmentation: alignment, void, ids, object-aware crops, padding, photometric ops."""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from aot_plus.data.config import AugmentConfig, PhotometricConfig
from aot_plus.data.photometric import (colour_jitter, gaussian_blur, random_affine, random_resized_crop,
                                       to_grayscale)
from aot_plus.data.transforms import (Clip, augment_clip, balanced_crop, clip_to_sample, normalize_images,
                                      random_pad)

COLOURS = {0: (90, 90, 90), 1: (250, 20, 20), 2: (20, 250, 20), 5: (20, 20, 250), 255: (240, 240, 30)}


def coloured_clip(frames: int = 3) -> Clip:
    """A 120 x 160 clip whose image colour encodes the label; objects 1, 2, 5 move right; void in the centre."""
    images, labels = [], []
    for t in range(frames):
        label = np.zeros((120, 160), np.uint8)
        label[10:50, 10 + 3 * t:60 + 3 * t] = 1
        label[70:110, 20 + 3 * t:70 + 3 * t] = 2
        label[60:100, 100:150] = 5
        label[50:70, 70:100] = 255
        lut = np.array([COLOURS.get(i, (0, 0, 0)) for i in range(256)], np.float32)
        images.append(lut[label])
        labels.append(label)
    return Clip("toy", frames, images, labels, obj_num=5)


def interior(mask: np.ndarray) -> np.ndarray:
    """The mask eroded by 3 pixels (away from interpolation borders)."""
    return cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8), borderType=cv2.BORDER_CONSTANT,
                     borderValue=0) > 0


@pytest.mark.parametrize("seed", range(6))
def test_augmented_clip_stays_aligned(seed: int) -> None:
    cfg = AugmentConfig(crop_size=(96, 128), min_scale=0.8, max_scale=1.25, short_edge=None)
    out = augment_clip(coloured_clip(), cfg, max_objects=10, rng=np.random.default_rng(seed))
    assert all(im.shape == (96, 128, 3) for im in out.images) and all(lb.shape == (96, 128) for lb in out.labels)
    values = set(np.unique(np.stack(out.labels)).tolist())
    assert values <= set(range(out.obj_num + 1)) | {255}
    assert 255 in values
    for new_id in range(1, out.obj_num + 1):
        assert (out.labels[0] == new_id).sum() > 100
    colour_of = {}
    for image, label in zip(out.images, out.labels):
        for value in values - {0}:
            inside = interior(label == value)
            if inside.sum() < 10:
                continue
            mean = image[inside].mean(axis=0)
            assert image[inside].std(axis=0).max() < 2.0
            assert np.abs(mean - colour_of.setdefault(value, mean)).max() < 2.0
    matched = {min(COLOURS, key=lambda k: np.abs(np.array(COLOURS[k]) - c).max()) for c in colour_of.values()}
    assert len(matched) == len(colour_of)
    assert np.abs(colour_of[255] - np.array(COLOURS[255])).max() < 2.0


def test_crop_finds_objects_when_possible() -> None:
    label = np.zeros((100, 100), np.uint8)
    label[:, 70:80] = 3
    clip = Clip("one", 2, [np.zeros((100, 100, 3), np.float32)] * 2, [label, label], 3)
    found = [balanced_crop(clip, np.random.default_rng(s), (40, 40), 5, 100, 10).obj_num for s in range(60)]
    once = [balanced_crop(clip, np.random.default_rng(s), (40, 40), 1, 100, 10).obj_num for s in range(60)]
    assert set(found) <= {0, 1} and set(once) <= {0, 1}
    assert sum(found) >= 52 and sum(once) <= 40


def test_crop_renumbers_drops_and_caps() -> None:
    ref = np.zeros((60, 130), np.uint8)
    for k in range(12):
        ref[0:20, 10 * k:10 * k + 10] = k + 1
    ref[30:32, 0:40] = 13
    ref[40:60, 0:20] = 255
    later = ref.copy()
    later[40:60, 100:120] = 20
    clip = Clip("many", 2, [np.zeros((60, 130, 3), np.float32)] * 2, [ref, later], 13)
    out = balanced_crop(clip, np.random.default_rng(0), (60, 130), 5, 100, 10)
    assert out.obj_num == 10
    assert sorted(np.unique(out.labels[0]).tolist()) == list(range(11)) + [255]
    assert (out.labels[1][40:60, 100:120] == 0).all() and (out.labels[0][30:32, 0:40] == 0).all()
    kept = [int(ref[0, 10 * k]) for k in range(12) if out.labels[0][0, 10 * k] > 0]
    renumbered = [int(out.labels[0][0, 10 * k]) for k in range(12) if out.labels[0][0, 10 * k] > 0]
    assert len(kept) == 10 and sorted(renumbered) == list(range(1, 11))
    small = balanced_crop(dataclasses.replace(clip, labels=[ref[:, :40], later[:, :40]]), np.random.default_rng(0),
                          (60, 40), 5, 100, 10)
    assert small.obj_num == 4 and (small.labels[0][0:20, 0:40] == np.repeat([1, 2, 3, 4], 10)).all()


def test_pad_fills_image_and_label() -> None:
    clip = Clip("pad", 1, [np.full((10, 12, 3), 7.0, np.float32)] * 2, [np.full((10, 12), 3, np.uint8)] * 2, 3)
    out = random_pad(clip, np.random.default_rng(1), (16, 20), (124.0, 116.0, 104.0))
    image, label = out.images[0], out.labels[0]
    assert image.shape == (16, 20, 3) and (label == 3).sum() == 120 and (label == 0).sum() == 16 * 20 - 120
    assert np.array_equal(image[label == 0][0], [124.0, 116.0, 104.0]) and (image[label == 3] == 7.0).all()
    assert np.array_equal(out.images[1], image) and np.array_equal(out.labels[1], label)


def test_clip_to_sample_tensors() -> None:
    clip = coloured_clip(4)
    sample = clip_to_sample(clip, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert sample["images"].shape == (4, 3, 120, 160) and sample["labels"].shape == (4, 1, 120, 160)
    assert str(sample["labels"].dtype) == "torch.int64" and int(sample["obj_num"]) == 5
    assert int(sample["labels"][0, 0, 55, 80]) == 255
    before = clip.images[0].copy()
    normalize_images(clip.images[0], (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    assert np.array_equal(clip.images[0], before)


def test_photometric_ops_keep_range_and_geometry() -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (40, 50, 3)).astype(np.float32)
    jittered = colour_jitter(image, rng, 0.4, 0.4, 0.2, 0.1)
    assert jittered.shape == image.shape and jittered.min() >= 0 and jittered.max() <= 255.0 + 1e-3
    assert np.abs(colour_jitter(image, rng, 0, 0, 0, 0) - image).max() < 1e-4
    grey = to_grayscale(image)
    assert np.allclose(grey[..., 0], grey[..., 2])
    assert gaussian_blur(image, 2.0).std() < image.std()
    label = np.zeros((40, 50), np.uint8)
    label[10:30, 10:40] = 4
    label[0:5, 0:5] = 255
    image = np.repeat(np.where(label[..., None] == 4, 200.0, 20.0), 3, axis=-1).astype(np.float32)
    warped, wlabel = random_affine(image, label, rng, 20, 0.1, (0.9, 1.1), 10, (124.0, 116.0, 104.0))
    assert set(np.unique(wlabel).tolist()) <= {0, 4, 255}
    assert (warped[interior(wlabel == 4)] > 150).all()
    crop, clabel = random_resized_crop(image, label, rng, (32, 32), (0.8, 1.0), (0.75, 4 / 3), 10)
    assert crop.shape == (32, 32, 3) and set(np.unique(clabel).tolist()) <= {0, 4, 255}
    assert (crop[interior(clabel == 4)] > 150).all()


def test_photometric_pipeline_is_per_frame_and_optional() -> None:
    clip = coloured_clip()
    cfg = AugmentConfig(crop_size=(96, 128), short_edge=None,
                        photometric=PhotometricConfig(enabled=True, jitter_prob=1.0, grayscale_prob=0.0))
    out = augment_clip(clip, cfg, 10, np.random.default_rng(0))
    plain = augment_clip(clip, dataclasses.replace(cfg, photometric=PhotometricConfig()), 10,
                         np.random.default_rng(0))
    assert not np.allclose(out.images[0], plain.images[0])
