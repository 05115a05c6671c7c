"""Static-image pretraining samples (stage ``pre``, ``docs/augmentation.md``, ``docs/datasets.md``).

One image and its mask become a pseudo-video of ``clip.seq_len`` frames: a shared random flip, then for every
frame after the first a flip, colour jitter and random affine warp, and for every frame a random resized crop.
Objects are the first frame's ids in random order (at most ``clip.max_objects``); a second image's sample is
merged in with probability ``static.merge_prob`` (always when the first has no object).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
from torch.utils.data import Dataset

from aot_plus.data.config import ClipConfig, StaticConfig
from aot_plus.data.errors import DatasetError
from aot_plus.data.io import check_same_size, read_image, read_label
from aot_plus.data.merge import merge_clips
from aot_plus.data.photometric import colour_jitter, random_affine, random_resized_crop
from aot_plus.data.seeding import sample_rng
from aot_plus.data.transforms import VOID, Clip, clip_to_sample

logger = logging.getLogger(__name__)


def static_pairs(root: str | Path, subsets: Sequence[str]) -> list[tuple[Path, Path]]:
    """(image, mask) pairs of every usable sub-dataset, paired by position in sorted order.

    Images are the sorted ``.jpg`` files followed by the sorted ``.png`` files; a missing sub-dataset, or one
    whose image and mask counts differ, is skipped with a warning.

    Raises:
        DatasetError: no sub-dataset is usable.
    """
    root = Path(root)
    pairs: list[tuple[Path, Path]] = []
    for subset in subsets:
        image_dir, mask_dir = root / "JPEGImages" / subset, root / "Annotations" / subset
        images = sorted(image_dir.glob("*.jpg")) + sorted(image_dir.glob("*.png"))
        masks = sorted(mask_dir.glob("*.png"))
        if not images:
            logger.warning("static subset %s: no images in %s, skipped", subset, image_dir)
        elif len(images) != len(masks):
            logger.warning("static subset %s: %d images but %d masks in %s, skipped", subset, len(images),
                           len(masks), mask_dir)
        else:
            pairs.extend(zip(images, masks))
            logger.info("static subset %s: %d images", subset, len(images))
    if not pairs:
        raise DatasetError(f"static dataset {root}: none of {list(subsets)} has images with matching masks under "
                           f"JPEGImages/<subset> and Annotations/<subset>")
    return pairs


class StaticImageDataset(Dataset):
    """Pseudo-video samples from still images with masks.

    Args:
        pairs: (image, mask) paths.
        cfg: the static-image augmentation values.
        clip: the sampler values (``seq_len``, ``merge_min_pixels``, ``max_objects``).
        crop_size: output (height, width).
        pad_value: RGB fill of the affine warp's uncovered area (labels get 0).
        mean: normalisation mean.
        std: normalisation standard deviation.
        seed: base seed of the run.
        stream: a number distinguishing this source from the others of the run.
    """

    def __init__(self, pairs: Sequence[tuple[Path, Path]], cfg: StaticConfig, clip: ClipConfig,
                 crop_size: tuple[int, int], pad_value: Sequence[float], mean: Sequence[float],
                 std: Sequence[float], seed: int = 0, stream: int = 0) -> None:
        if not pairs:
            raise DatasetError(f"static dataset {cfg.root} has no image")
        self.pairs = list(pairs)
        self.cfg = cfg
        self.clip = clip
        self.crop_size = crop_size
        self.pad_value = tuple(pad_value)
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.seed = seed
        self.stream = stream
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose draws the items use."""
        self.epoch = epoch

    def _object_lut(self, label: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        ids = [int(i) for i in np.unique(label) if i != 0 and (i != VOID or self.cfg.void_is_object)]
        ids = [ids[i] for i in rng.permutation(len(ids))[:self.clip.max_objects]]
        lut = np.zeros(256, dtype=np.uint8)
        for new_id, old_id in enumerate(ids, start=1):
            lut[old_id] = new_id
        return lut, len(ids)

    def pseudo_clip(self, index: int, rng: np.random.Generator) -> Clip:
        """The augmented frames of image ``index`` with objects renumbered from the first frame."""
        image_path, mask_path = self.pairs[index]
        image, mask = read_image(image_path), read_label(mask_path)
        check_same_size(image, mask, image_path, mask_path)
        cfg = self.cfg
        if rng.random() < cfg.first_flip_prob:
            image, mask = np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(mask[:, ::-1])
        images, labels = [], []
        lut, obj_num = None, 0
        for frame in range(self.clip.seq_len):
            img, lab = image, mask
            if frame > 0:
                if rng.random() < cfg.flip_prob:
                    img, lab = np.ascontiguousarray(img[:, ::-1]), np.ascontiguousarray(lab[:, ::-1])
                img = colour_jitter(img, rng, *cfg.jitter)
                img, lab = random_affine(img, lab, rng, cfg.rotation, cfg.translate, cfg.scale_range, cfg.shear,
                                         self.pad_value)
            img, lab = random_resized_crop(img, lab, rng, self.crop_size, cfg.crop_area, cfg.crop_ratio,
                                           cfg.crop_tries)
            if lut is None:
                lut, obj_num = self._object_lut(lab, rng)
            images.append(img.astype(np.float32))
            labels.append(lut[lab])
        return Clip(name=str(image_path), frame_num=1, images=images, labels=labels, obj_num=obj_num)

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        rng = sample_rng(self.seed, self.stream, self.epoch, index)
        clip = self.pseudo_clip(index, rng)
        if clip.obj_num == 0 or rng.random() < self.cfg.merge_prob:
            other = index
            if len(self.pairs) > 1:
                other = int(rng.integers(len(self.pairs) - 1))
                other += int(other >= index)
            clip = merge_clips(clip, self.pseudo_clip(other, rng), rng, self.clip.merge_min_pixels,
                               self.clip.max_objects, keep_void=False)
        return clip_to_sample(clip, self.mean, self.std)
