"""DAVIS 2017 / 2016 readers (``docs/datasets.md``), in the aot-benchmark layout or the RMem fork's.

aot-benchmark: ``JPEGImages/480p/<seq>``, ``Annotations/480p/<seq>``, ``ImageSets/2017/<split>.txt``.
RMem fork: ``JPEGImages/<seq>``, ``Annotations/<seq>``, lists in ``ImageSets/2017/`` (training) or
``ImageSets/`` (evaluation). Every list location is tried in that order.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from aot_plus.data.clip_sampler import TrainSequence, folder_train_sequence
from aot_plus.data.config import DavisConfig
from aot_plus.data.io import find_list, list_files, read_list, require_dir, stem
from aot_plus.data.sequence import EvalDataset, EvalSequence

OUTPUT_HEIGHT = 480


def davis_folders(root: Path, resolution: str) -> tuple[Path, Path]:
    """(image root, label root) for a resolution setting (``auto``, ``none``, ``480p``, ``Full-Resolution``)."""
    if resolution == "auto":
        resolution = "480p" if (root / "JPEGImages" / "480p").is_dir() else "none"
    if resolution == "none":
        return root / "JPEGImages", root / "Annotations"
    return root / "JPEGImages" / resolution, root / "Annotations" / resolution


def davis_list(root: Path, year: int, split: str) -> list[str]:
    """Names of a split (``test`` means ``test-dev``), from ``ImageSets/<year>/`` or ``ImageSets/``."""
    split = "test-dev" if split == "test" else split
    return read_list(find_list([root / "ImageSets" / str(year) / f"{split}.txt",
                                root / "ImageSets" / f"{split}.txt"]))


def davis_train_sequences(cfg: DavisConfig) -> list[TrainSequence]:
    """The training sequences of ``cfg.split`` (list order, duplicates dropped)."""
    root = require_dir(cfg.root, "DAVIS dataset")
    image_root, label_root = davis_folders(root, cfg.resolution)
    names = list(dict.fromkeys(davis_list(root, cfg.year, cfg.split)))
    return [folder_train_sequence(image_root / name, label_root / name, name) for name in names]


class DAVISEval(EvalDataset):
    """DAVIS evaluation: every frame, the first annotation; results at height 480.

    Args:
        root: dataset root.
        split: ``val``, ``test`` (test-dev) or ``train``.
        year: list folder under ``ImageSets``.
        resolution: see :func:`davis_folders`.
        single_object: DAVIS 2016 mode, every object merged into one.
    """

    name = "davis2017"

    def __init__(self, root: Union[str, Path], split: str = "val", year: int = 2017, resolution: str = "auto",
                 single_object: bool = False) -> None:
        self.root = require_dir(root, "DAVIS dataset")
        super().__init__(sorted(set(davis_list(self.root, year, split))))
        self.image_root, self.label_root = davis_folders(self.root, resolution)
        self.single_object = single_object
        self.output_height: Optional[int] = OUTPUT_HEIGHT

    def sequence(self, name: str) -> EvalSequence:
        """Build the sequence called ``name``."""
        image_dir = self.image_root / name
        frames = [image_dir / f for f in list_files(image_dir, (".jpg",))]
        first = self.label_root / name / f"{stem(frames[0].name)}.png"
        return EvalSequence(name, frames, {0: first}, binarize=self.single_object, output_height=self.output_height)
