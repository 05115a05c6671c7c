"""VOST readers (``docs/datasets.md``): training reads the annotated frames, evaluation the 10 fps frames.

Layout: ``ImageSets/<split>.txt``, ``JPEGImages/<seq>/*.jpg`` (the annotated frames), ``JPEGImages_10fps/<seq>``
(every 10 fps frame; the annotated ones are every second), ``Annotations/<seq>/*.png`` (palette, 255 = void).
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from aot_plus.data.clip_sampler import TrainSequence, folder_train_sequence
from aot_plus.data.config import VOSTConfig
from aot_plus.data.io import list_files, read_list, require_dir, stem
from aot_plus.data.sequence import EvalDataset, EvalSequence


def vost_train_sequences(cfg: VOSTConfig) -> list[TrainSequence]:
    """The training sequences of ``cfg.split`` (list order, duplicates dropped).

    Raises:
        DatasetError: the root, the list, a sequence folder is missing, the list is empty, or an annotation has
            no image.
    """
    root = require_dir(cfg.root, "VOST dataset")
    names = list(dict.fromkeys(read_list(root / "ImageSets" / f"{cfg.split}.txt")))
    return [folder_train_sequence(root / cfg.train_frames_dir / name, root / "Annotations" / name, name)
            for name in names]


class VOSTEval(EvalDataset):
    """VOST evaluation: every frame of ``<frames_dir>/<seq>``, the first frame's annotation only.

    Sequences are the sorted unique names of ``ImageSets/<split>.txt`` (the reference order).

    Args:
        root: dataset root.
        split: list name (``val``, ``test``, ``train``).
        frames_dir: ``JPEGImages_10fps`` (reference) or ``JPEGImages`` (the annotated frames).
        all_labels: give the model every annotation, not just the first (the reference's "oracle" mode).
    """

    name = "vost"

    def __init__(self, root: Union[str, Path], split: str = "val", frames_dir: str = "JPEGImages_10fps",
                 all_labels: bool = False) -> None:
        self.root = require_dir(root, "VOST dataset")
        super().__init__(sorted(set(read_list(self.root / "ImageSets" / f"{split}.txt"))))
        self.frames_dir = frames_dir
        self.all_labels = all_labels

    def sequence(self, name: str) -> EvalSequence:
        """Build the sequence called ``name``."""
        image_dir = self.root / self.frames_dir / name
        frames = [image_dir / f for f in list_files(image_dir, (".jpg",))]
        label_dir = self.root / "Annotations" / name
        if self.all_labels:
            labels = {i: label_dir / f"{stem(p.name)}.png" for i, p in enumerate(frames)
                      if (label_dir / f"{stem(p.name)}.png").is_file()}
            labels.setdefault(0, label_dir / f"{stem(frames[0].name)}.png")
        else:
            labels = {0: label_dir / f"{stem(frames[0].name)}.png"}
        return EvalSequence(name, frames, labels)
