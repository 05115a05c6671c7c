"""Training datasets: video clips (VOST, DAVIS, YouTube-VOS) and their concatenation.

Each item is a dict of tensors (:func:`aot_plus.data.transforms.clip_to_sample`). Randomness comes only from
:func:`aot_plus.data.seeding.sample_rng` keyed by (seed, stream, epoch, index), so an item is reproducible in any
worker or rank; call :meth:`set_epoch` before each epoch's iterator is created (workers copy the dataset then).
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
from torch.utils.data import ConcatDataset, Dataset

from aot_plus.data.clip_sampler import TrainSequence, sample_clip
from aot_plus.data.config import AugmentConfig, ClipConfig, VOSSourceConfig
from aot_plus.data.errors import DatasetError
from aot_plus.data.merge import merge_clips
from aot_plus.data.seeding import sample_rng
from aot_plus.data.transforms import Clip, augment_clip, clip_to_sample

logger = logging.getLogger(__name__)


class VOSClipDataset(Dataset):
    """Augmented training clips from a list of video sequences (the reference ``VOSTrain``).

    Item ``i`` uses sequence ``i mod n``; with probability ``clip.merge_prob`` (always when the crop kept no
    object) a clip of another sequence is merged in. With a single sequence the second clip comes from the same
    sequence (the reference would loop forever).

    Args:
        sequences: the training sequences.
        source: the source's gap, repeat, ignore threshold and void-in-merge values.
        clip: the clip sampler values.
        augment: the augmentation values.
        mean: normalisation mean (RGB, 0..1 scale).
        std: normalisation standard deviation.
        seed: base seed of the run.
        stream: a number distinguishing this source from the others of the run.
        name: source name for logs.
    """

    def __init__(self, sequences: Sequence[TrainSequence], source: VOSSourceConfig, clip: ClipConfig,
                 augment: AugmentConfig, mean: Sequence[float], std: Sequence[float], seed: int = 0,
                 stream: int = 0, name: str = "vos") -> None:
        if not sequences:
            raise DatasetError(f"training source {name!r} ({source.root}) has no sequence")
        self.sequences = list(sequences)
        self.source = source
        self.clip = clip
        self.augment = augment
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.seed = seed
        self.stream = stream
        self.epoch = 0
        logger.info("%s: %d sequences x %d", name, len(self.sequences), source.repeat)

    def __len__(self) -> int:
        return len(self.sequences) * self.source.repeat

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose draws the items use."""
        self.epoch = epoch

    def augmented_clip(self, seq_index: int, rng: np.random.Generator) -> Clip:
        """Sample and augment one clip of sequence ``seq_index``."""
        clip = sample_clip(self.sequences[seq_index], self.clip, self.source.max_gap, self.source.ignore_thresh,
                           rng)
        return augment_clip(clip, self.augment, self.clip.max_objects, rng)

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        rng = sample_rng(self.seed, self.stream, self.epoch, index)
        seq_index = index % len(self.sequences)
        clip = self.augmented_clip(seq_index, rng)
        if clip.obj_num <= 0 or rng.random() < self.clip.merge_prob:
            other = seq_index
            if len(self.sequences) > 1:
                other = int(rng.integers(len(self.sequences) - 1))
                other += int(other >= seq_index)
            second = self.augmented_clip(other, rng)
            clip = merge_clips(clip, second, rng, self.clip.merge_min_pixels, self.clip.max_objects,
                               self.source.ignore_in_merge)
        return clip_to_sample(clip, self.mean, self.std)


class TrainDataset(ConcatDataset):
    """The concatenation of a run's training sources, with :meth:`set_epoch` forwarded to each."""

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose draws every source uses."""
        for dataset in self.datasets:
            dataset.set_epoch(epoch)
