"""Typed configuration of the data pipeline (the ``data`` section of an experiment file).

Every default is the reference's (RMem / AOT+ ``configs/default.py`` and the dataset classes;
``docs/clip-sampling.md``, ``docs/augmentation.md``). The stage-dependent values (``train_datasets``,
``clip.seq_len``) default to the ``pre_vost`` stage; the stage files under ``configs/stages/`` set them explicitly.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Optional

TrainSource = Literal["vost", "davis2017", "youtubevos", "static"]
ClipStart = Literal["annotated_index", "reference_frame"]


def _check_prob(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")


@dataclass(frozen=True)
class VOSSourceConfig:
    """One video dataset read by the shared clip sampler (``docs/clip-sampling.md``).

    Attributes:
        root: dataset root folder.
        split: training split (sequence list name).
        max_gap: largest gap, in listed frames, between consecutive sampled frames (gaps are uniform in 1..max_gap).
        repeat: each sequence appears this many times per epoch.
        ignore_thresh: a reference frame is accepted only when void / labelled pixels <= this.
        ignore_in_merge: keep void (255) under background when two clips are merged.
    """

    root: str = "datasets/VOST"
    split: str = "train"
    max_gap: int = 3
    repeat: int = 1
    ignore_thresh: float = 1.0
    ignore_in_merge: bool = False

    def __post_init__(self) -> None:
        if self.max_gap < 1 or self.repeat < 1:
            raise ValueError(f"max_gap and repeat must be >= 1, got {self.max_gap} and {self.repeat}")
        if self.ignore_thresh < 0:
            raise ValueError(f"ignore_thresh must be >= 0, got {self.ignore_thresh}")


@dataclass(frozen=True)
class VOSTConfig(VOSSourceConfig):
    """VOST: training reads the annotated frames (``JPEGImages``), evaluation the 10 fps frames.

    Attributes:
        train_frames_dir: image folder read by training (one image per annotation).
        eval_frames_dir: image folder read by evaluation (``JPEGImages`` gives the reference's "oracle" mode).
    """

    root: str = "datasets/VOST"
    max_gap: int = 3
    repeat: int = 1
    ignore_thresh: float = 0.2
    ignore_in_merge: bool = True
    train_frames_dir: str = "JPEGImages"
    eval_frames_dir: str = "JPEGImages_10fps"


@dataclass(frozen=True)
class DavisConfig(VOSSourceConfig):
    """DAVIS 2017.

    Attributes:
        year: ``ImageSets/<year>/`` holds the lists of the aot-benchmark layout.
        resolution: ``auto`` uses ``JPEGImages/480p`` when present, else ``JPEGImages/<seq>`` (the RMem fork's
            layout); ``480p`` / ``Full-Resolution`` force the aot-benchmark layout; ``none`` forces the fork's.
    """

    root: str = "datasets/DAVIS"
    max_gap: int = 12
    repeat: int = 5
    year: int = 2017
    resolution: Literal["auto", "none", "480p", "Full-Resolution"] = "auto"


@dataclass(frozen=True)
class YouTubeVOSConfig(VOSSourceConfig):
    """YouTube-VOS (``<root>/<year>/<split>/{JPEGImages,Annotations,meta.json}``); repeat is fixed at 1."""

    root: str = "datasets/YTB"
    max_gap: int = 3
    year: int = 2019


@dataclass(frozen=True)
class LVOSConfig:
    """LVOS v1 / v2 (evaluation only; ``docs/benchmarks.md``).

    Attributes:
        root: the split folder (``JPEGImages``, ``Annotations``, ``<split>_meta.json``) or the folder holding it.
        unseen_list: file naming the unseen videos for the seen / unseen means of the metric (None: the split
            folder's ``unseen_videos.txt`` when present, else every video counts as seen).
    """

    root: str = "datasets/LVOS"
    unseen_list: Optional[str] = None


@dataclass(frozen=True)
class ClipConfig:
    """The clip sampler shared by the video datasets (``docs/clip-sampling.md``).

    Attributes:
        seq_len: frames per sample L (reference + previous + L - 2 current); 15 in ``pre_vost``, 17 in
            ``pre_vost_2``, 5 in the other stages.
        reverse_prob: probability of running a clip backwards in time.
        ref_min_pixels: a reference frame needs more labelled (non-zero) pixels than this.
        ref_max_draws: draws of the reference frame before the last draw is taken anyway.
        max_attempts: clip attempts until one is consistent (later frames hold no value absent from the reference).
        max_total_gap: the gaps of a clip must sum to at most this.
        gap_redraws: redraws of the gaps until the last sampled frame exists and is annotated; reaching this many
            falls back to unit gaps (then zero gaps at the end of the sequence).
        merge_prob: probability of merging a second clip into the sample (always when the first has no object).
        merge_min_pixels: after a merge, objects with at most this many pixels on the reference frame are dropped.
        max_objects: cap on the objects of a sample (the model's identity count).
        start: where the later frames of a clip start counting their gaps from, when a sequence has frames
            without annotations. ``annotated_index`` (the reference, what the released models saw): the
            reference frame's index in the list of annotated frames, reused as an index into the list of all
            frames, so the later frames may start before the reference frame and repeat it.
            ``reference_frame``: the reference frame's own position among all frames. Identical when every
            frame is annotated.
    """

    seq_len: int = 15
    reverse_prob: float = 0.5
    ref_min_pixels: int = 200
    ref_max_draws: int = 40
    max_attempts: int = 5
    max_total_gap: int = 99
    gap_redraws: int = 10
    merge_prob: float = 0.2
    merge_min_pixels: int = 100
    max_objects: int = 10
    start: ClipStart = "annotated_index"

    def __post_init__(self) -> None:
        if self.seq_len < 2:
            raise ValueError(f"seq_len must be >= 2 (reference + previous frame), got {self.seq_len}")
        if min(self.ref_max_draws, self.max_attempts, self.gap_redraws, self.max_objects) < 1:
            raise ValueError("ref_max_draws, max_attempts, gap_redraws and max_objects must be >= 1")
        _check_prob("reverse_prob", self.reverse_prob)
        _check_prob("merge_prob", self.merge_prob)


@dataclass(frozen=True)
class PhotometricConfig:
    """Per-frame colour augmentation of aot-benchmark's ``v2`` pipeline; off in RMem / AOT+ (docs/augmentation.md).

    Attributes:
        enabled: insert colour jitter, grey-scale and blur after the crop.
        jitter_prob: probability of the colour jitter per frame.
        brightness: brightness factor drawn from [1 - b, 1 + b].
        contrast: contrast factor drawn from [1 - c, 1 + c].
        saturation: saturation factor drawn from [1 - s, 1 + s].
        hue: hue shift drawn from [-h, h] (fraction of a full turn).
        grayscale_prob: probability of converting a frame to grey.
        blur_prob: probability of a Gaussian blur.
        blur_sigma: range of the blur's standard deviation in pixels.
    """

    enabled: bool = False
    jitter_prob: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue: float = 0.1
    grayscale_prob: float = 0.2
    blur_prob: float = 0.3
    blur_sigma: tuple[float, float] = (0.1, 2.0)

    def __post_init__(self) -> None:
        for name in ("jitter_prob", "grayscale_prob", "blur_prob"):
            _check_prob(name, getattr(self, name))
        if not 0.0 <= self.hue <= 0.5:
            raise ValueError(f"hue must lie in [0, 0.5], got {self.hue}")


@dataclass(frozen=True)
class AugmentConfig:
    """Geometric augmentation of a video clip, one draw per clip (``docs/augmentation.md``).

    Attributes:
        crop_size: output (height, width). Unset (the default): follows the model's ``align_corners`` as in the
            reference, 465 x 465 when true (R50, MobileNet), 464 x 464 when false (Swin); the experiment config
            resolves it (:meth:`DataConfig.for_model`), so a resolved config always holds a size.
        min_scale: lower bound of the random scale factor.
        max_scale: upper bound of the random scale factor.
        short_edge: the scale is relative to this short-edge length of the previous frame (None: absolute).
        crop_tries: object-aware crop attempts.
        crop_min_pixels: objects need more pixels than this in the reference crop to be kept.
        flip_prob: probability of a horizontal flip.
        pad_value: RGB fill (0..255) when a crop is smaller than ``crop_size``; labels are padded with 0.
        photometric: the optional per-frame colour augmentation.
    """

    crop_size: Optional[tuple[int, int]] = None
    min_scale: float = 0.7
    max_scale: float = 1.3
    short_edge: Optional[int] = 480
    crop_tries: int = 5
    crop_min_pixels: int = 100
    flip_prob: float = 0.5
    pad_value: tuple[float, float, float] = (124.0, 116.0, 104.0)
    photometric: PhotometricConfig = field(default_factory=PhotometricConfig)

    def __post_init__(self) -> None:
        if self.crop_size is not None and min(self.crop_size) < 1:
            raise ValueError(f"crop_size must be positive, got {self.crop_size}")
        if not 0 < self.min_scale <= self.max_scale:
            raise ValueError(f"need 0 < min_scale <= max_scale, got {self.min_scale}, {self.max_scale}")
        if self.crop_tries < 1:
            raise ValueError(f"crop_tries must be >= 1, got {self.crop_tries}")
        _check_prob("flip_prob", self.flip_prob)


def model_crop_size(align_corners: bool) -> tuple[int, int]:
    """The reference's training crop for a model: 16k + 1 (465 x 465) with ``align_corners``, else 16k (464)."""
    return (465, 465) if align_corners else (464, 464)


@dataclass(frozen=True)
class StaticConfig:
    """Static-image pretraining samples (stage ``pre``, ``docs/augmentation.md``).

    Attributes:
        root: folder with ``JPEGImages/<subset>`` and ``Annotations/<subset>``.
        subsets: sub-datasets read (a missing one is skipped; one whose image and mask counts differ too).
        merge_prob: probability of merging a second image's sample.
        first_flip_prob: flip of the image pair before the frames are made.
        flip_prob: per-frame flip of frames 1..L-1.
        jitter: (brightness, contrast, saturation, hue) of the colour jitter of frames 1..L-1.
        rotation: affine rotation range in degrees (+-).
        translate: affine translation range as a fraction of each side (+-).
        scale_range: affine scale range.
        shear: affine x-shear range in degrees (+-).
        crop_area: random resized crop: area fraction range.
        crop_ratio: random resized crop: aspect-ratio range (times the output's aspect ratio).
        crop_tries: random resized crop draws before the central crop.
        void_is_object: treat mask value 255 as an object id. True is the NumPy-1 behaviour the model zoo was
            trained with (binary 0/255 saliency masks become one object); False makes 255 background.
    """

    root: str = "datasets/Static"
    subsets: tuple[str, ...] = ("COCO", "ECSSD", "MSRA10K", "PASCAL-S", "PASCALVOC2012")
    merge_prob: float = 1.0
    first_flip_prob: float = 0.5
    flip_prob: float = 0.3
    jitter: tuple[float, float, float, float] = (0.1, 0.1, 0.1, 0.03)
    rotation: float = 20.0
    translate: float = 0.1
    scale_range: tuple[float, float] = (0.9, 1.1)
    shear: float = 10.0
    crop_area: tuple[float, float] = (0.8, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 4.0 / 3.0)
    crop_tries: int = 10
    void_is_object: bool = True

    def __post_init__(self) -> None:
        for name in ("merge_prob", "first_flip_prob", "flip_prob"):
            _check_prob(name, getattr(self, name))


@dataclass(frozen=True)
class DataConfig:
    """Datasets, the training sampler, augmentation and loading.

    Attributes:
        train_datasets: training sources, concatenated in this order.
        vost: VOST root and sampler values.
        davis: DAVIS 2017 root and sampler values.
        youtubevos: YouTube-VOS root and sampler values.
        static: static-image pretraining values.
        long_videos_root: root of the Long Videos dataset (evaluation only).
        long_videos_output_height: height Long Videos results are written at (the 480p annotations' height);
            None keeps each video's size.
        lvos: LVOS root and unseen-video list (evaluation only).
        clip: the clip sampler.
        augment: the clip augmentation.
        mean: normalisation mean (RGB, 0..1 scale).
        std: normalisation standard deviation (RGB, 0..1 scale).
        num_workers: DataLoader worker processes per training process.
        prefetch_factor: batches prefetched per worker.
    """

    train_datasets: tuple[TrainSource, ...] = ("vost",)
    vost: VOSTConfig = field(default_factory=VOSTConfig)
    davis: DavisConfig = field(default_factory=DavisConfig)
    youtubevos: YouTubeVOSConfig = field(default_factory=YouTubeVOSConfig)
    static: StaticConfig = field(default_factory=StaticConfig)
    long_videos_root: str = "datasets/long_videos"
    long_videos_output_height: Optional[int] = 480
    lvos: LVOSConfig = field(default_factory=LVOSConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    num_workers: int = 8
    prefetch_factor: int = 4

    def __post_init__(self) -> None:
        if not self.train_datasets:
            raise ValueError("train_datasets must name at least one source")
        if min(self.std) <= 0:
            raise ValueError(f"std must be positive, got {self.std}")
        if self.num_workers < 0 or self.prefetch_factor < 1:
            raise ValueError("num_workers must be >= 0 and prefetch_factor >= 1")

    def for_model(self, align_corners: bool) -> "DataConfig":
        """This config with an unset ``augment.crop_size`` set from the model's ``align_corners``
        (:func:`model_crop_size`); a size given explicitly is kept."""
        if self.augment.crop_size is not None:
            return self
        augment = replace(self.augment, crop_size=model_crop_size(align_corners))
        return replace(self, augment=augment)
