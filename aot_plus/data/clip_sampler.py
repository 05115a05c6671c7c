"""Drawing one training clip from a video sequence: the reference's VOS sampler (``docs/clip-sampling.md``).

Shared by VOST, DAVIS and YouTube-VOS: random reversal, a reference frame with enough labelled pixels and
little void, random gaps with a valid-frame rule and fallbacks, reflected indices, and a consistency check
against the reference's ids, retried a few times.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from aot_plus.data.config import ClipConfig
from aot_plus.data.errors import DatasetError
from aot_plus.data.io import check_same_size, list_files, read_image, read_label
from aot_plus.data.io import stem as file_stem
from aot_plus.data.transforms import VOID, Clip, largest_object_id, present_ids


@dataclass(frozen=True)
class TrainSequence:
    """A training video: its frames and which of them are annotated.

    Attributes:
        name: sequence name.
        image_dir: folder of ``<stem><image_suffix>`` frames.
        label_dir: folder of ``<stem>.png`` annotations.
        frames: sorted frame stems (F).
        labelled: sorted stems of the annotated frames (A); a subset of ``frames``.
        image_suffix: file suffix of the frames.
    """

    name: str
    image_dir: Path
    label_dir: Path
    frames: tuple[str, ...]
    labelled: tuple[str, ...]
    image_suffix: str = ".jpg"

    def image_path(self, stem: str) -> Path:
        """Path of a frame's image."""
        return self.image_dir / f"{stem}{self.image_suffix}"

    def label_path(self, stem: str) -> Path:
        """Path of a frame's annotation."""
        return self.label_dir / f"{stem}.png"


def folder_train_sequence(image_dir: Path, label_dir: Path, name: str) -> TrainSequence:
    """A training sequence from a folder of ``.jpg`` frames and a folder of ``.png`` annotations.

    Raises:
        DatasetError: a folder is missing or empty, or an annotation has no image.
    """
    frames = [file_stem(f) for f in list_files(image_dir, (".jpg",))]
    labelled = [file_stem(f) for f in list_files(label_dir, (".png",))]
    missing = sorted(set(labelled) - set(frames))
    if missing:
        raise DatasetError(f"sequence {name}: annotation {label_dir / (missing[0] + '.png')} has no image "
                           f"{image_dir / (missing[0] + '.jpg')}")
    return TrainSequence(name=name, image_dir=image_dir, label_dir=label_dir, frames=tuple(frames),
                         labelled=tuple(labelled))


def reflect_index(index: int, length: int) -> int:
    """Mirror an index into [0, length): beyond the end it bounces back, below 0 it bounces forward."""
    if length <= 1:
        return 0
    while index < 0 or index >= length:
        index = -index if index < 0 else 2 * (length - 1) - index
    return index


class _LabelCache:
    """Reads each annotation of one clip draw once."""

    def __init__(self, seq: TrainSequence) -> None:
        self.seq = seq
        self.labels: dict[str, np.ndarray] = {}

    def __call__(self, stem: str) -> np.ndarray:
        if stem not in self.labels:
            self.labels[stem] = read_label(self.seq.label_path(stem))
        return self.labels[stem]


def pick_reference(labelled: list[str], seq_len: int, ignore_thresh: float, cfg: ClipConfig,
                   rng: np.random.Generator, load: Callable[[str], np.ndarray]) -> int:
    """Index into ``labelled`` of the reference frame.

    Drawn uniformly from the first ``len(labelled) - seq_len`` annotated frames (index 0 when that range has at
    most one frame); accepted when it has more than ``cfg.ref_min_pixels`` non-zero pixels and a void share of
    at most ``ignore_thresh``; a rejected index is not re-read; after ``cfg.ref_max_draws`` draws the last one.
    """
    search = len(labelled) - seq_len
    if search <= 1:
        return 0
    rejected: set[int] = set()
    index = 0
    for _ in range(cfg.ref_max_draws):
        index = int(rng.integers(search))
        if index in rejected:
            continue
        label = load(labelled[index])
        nonzero = int(np.count_nonzero(label))
        void = int(np.count_nonzero(label == VOID))
        if nonzero > cfg.ref_min_pixels and void / nonzero <= ignore_thresh:
            return index
        rejected.add(index)
    return index


def _draw_gaps(count: int, max_gap: int, cfg: ClipConfig, rng: np.random.Generator) -> list[int]:
    gaps = rng.integers(1, max_gap + 1, size=count)
    for _ in range(cfg.gap_redraws - 1):
        if int(gaps.sum()) <= cfg.max_total_gap:
            break
        gaps = rng.integers(1, max_gap + 1, size=count)
    return [int(g) for g in gaps]


def plan_gaps(start: int, frames: list[str], labelled: set[str], count: int, max_gap: int, cfg: ClipConfig,
              rng: np.random.Generator) -> list[int]:
    """``count`` gaps after frame ``start`` such that the last frame exists and is annotated.

    Redrawn up to ``cfg.gap_redraws`` times; when the redraw budget is used up (even if the last redraw was
    valid, as in the reference) the gaps become unit steps to the end of the sequence, then zeros.
    """

    def valid(gaps: list[int]) -> bool:
        end = start + sum(gaps)
        return end < len(frames) and frames[end] in labelled

    gaps = _draw_gaps(count, max_gap, cfg, rng)
    redraws = 0
    while not valid(gaps) and redraws < cfg.gap_redraws:
        gaps = _draw_gaps(count, max_gap, cfg, rng)
        redraws += 1
    if redraws == cfg.gap_redraws:
        ones = min(count, len(frames) - start)
        gaps = [1] * ones + [0] * (count - ones)
    return gaps


def sample_clip(seq: TrainSequence, cfg: ClipConfig, max_gap: int, ignore_thresh: float,
                rng: np.random.Generator) -> Clip:
    """Draw one clip of ``cfg.seq_len`` frames (reference first) from ``seq``, before augmentation.

    The later frames follow ``start`` (see ``cfg.start``) by the planned gaps, reflected at the ends of the
    sequence. Unannotated frames get an all-void label. The clip's ``obj_num`` is the reference's largest non-void id.

    Raises:
        DatasetError: a frame or annotation is missing, corrupt, or of another size than its image.
    """
    frames, labelled = list(seq.frames), list(seq.labelled)
    if rng.random() < cfg.reverse_prob:
        frames.reverse()
        labelled.reverse()
    labelled_set = set(labelled)
    position = {stem: i for i, stem in enumerate(frames)}
    load = _LabelCache(seq)
    stems: list[str] = []
    for _ in range(cfg.max_attempts):
        ref = pick_reference(labelled, cfg.seq_len, ignore_thresh, cfg, rng, load)
        start = ref if cfg.start == "annotated_index" else position[labelled[ref]]
        gaps = plan_gaps(start, frames, labelled_set, cfg.seq_len - 1, max_gap, cfg, rng)
        indices = np.cumsum([start] + gaps)[1:]
        stems = [labelled[ref]] + [frames[reflect_index(int(i), len(frames))] for i in indices]
        ref_ids = set(present_ids(load(stems[0])).tolist())
        later_ids: set[int] = set()
        for stem in stems[1:]:
            if stem in labelled_set:
                later_ids.update(present_ids(load(stem)).tolist())
        if later_ids - {0} <= ref_ids:
            break
    return _read_clip(seq, stems, labelled_set, load)


def _read_clip(seq: TrainSequence, stems: list[str], labelled: set[str],
               load: Callable[[str], np.ndarray]) -> Clip:
    images, labels = [], []
    for stem in stems:
        image = read_image(seq.image_path(stem))
        if stem in labelled:
            label = load(stem)
            check_same_size(image, label, seq.image_path(stem), seq.label_path(stem))
        else:
            label = np.full(image.shape[:2], VOID, dtype=np.uint8)
        images.append(image)
        labels.append(label)
    return Clip(name=seq.name, frame_num=len(seq.frames), images=images, labels=labels,
                obj_num=largest_object_id(labels[0]))
