"""YouTube-VOS 2018/2019 readers (``docs/datasets.md``).

Layout: ``<root>/<year>/<split>/{JPEGImages,Annotations,meta.json}``.

``meta.json`` lists, per video, its objects and the frames each appears in. Objects may start after the first
frame; evaluation gives the model each object's first annotated frame.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Union

from aot_plus.data.clip_sampler import TrainSequence
from aot_plus.data.config import YouTubeVOSConfig
from aot_plus.data.errors import DatasetError
from aot_plus.data.io import list_files, require_dir, stem
from aot_plus.data.sequence import EvalDataset, EvalSequence

logger = logging.getLogger(__name__)


def read_meta(path: Path) -> dict[str, dict[str, list[str]]]:
    """``meta.json`` as {video: {object id: [frame stems]}} in file order.

    Raises:
        DatasetError: the file is missing, not JSON, or lacks ``videos`` / ``objects`` / ``frames``.
    """
    if not path.is_file():
        raise DatasetError(f"YouTube-VOS meta file {path} does not exist")
    try:
        videos = json.loads(path.read_text())["videos"]
        meta = {name: {str(obj): [str(f) for f in info["frames"]] for obj, info in video["objects"].items()}
                for name, video in videos.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise DatasetError(f"YouTube-VOS meta file {path}: expected {{'videos': {{video: {{'objects': {{id: "
                           f"{{'frames': [...]}}}}}}}}}} ({err!r})") from err
    if not meta:
        raise DatasetError(f"YouTube-VOS meta file {path} lists no video")
    return meta


def youtubevos_train_sequences(cfg: YouTubeVOSConfig) -> list[TrainSequence]:
    """Training sequences: each video's frames are the union of its objects' frames.

    Objects listed in fewer than 2 frames are skipped, videos with fewer than 2 frames dropped (with a log line).
    """
    root = require_dir(Path(cfg.root) / str(cfg.year) / cfg.split, "YouTube-VOS split")
    sequences = []
    for name, objects in read_meta(root / "meta.json").items():
        frames: set[str] = set()
        for obj, obj_frames in objects.items():
            if len(obj_frames) < 2:
                logger.info("YouTube-VOS %s: object %s has fewer than 2 frames, skipped", name, obj)
                continue
            frames.update(obj_frames)
        if len(frames) < 2:
            logger.info("YouTube-VOS %s: fewer than 2 frames, skipped", name)
            continue
        stems = tuple(sorted(frames))
        sequences.append(TrainSequence(name=name, image_dir=root / "JPEGImages" / name,
                                       label_dir=root / "Annotations" / name, frames=stems, labelled=stems))
    if not sequences:
        raise DatasetError(f"YouTube-VOS split {root}: no video with at least 2 annotated frames")
    return sequences


class YouTubeVOSEval(EvalDataset):
    """YouTube-VOS evaluation in ``meta.json`` order.

    Args:
        root: the folder holding ``<year>/``.
        year: 2018 or 2019.
        split: ``valid`` (``val`` accepted) or ``test``.
        all_frames: process every 30 fps frame of ``<split>_all_frames/JPEGImages`` between each video's first
            and last listed frame; the listed frames are then the sequence's ``sparse_frames``.
    """

    name = "youtubevos"

    def __init__(self, root: Union[str, Path], year: int = 2019, split: str = "valid",
                 all_frames: bool = False) -> None:
        split = "valid" if split == "val" else split
        self.split_root = require_dir(Path(root) / str(year) / split, "YouTube-VOS split")
        self.meta = read_meta(self.split_root / "meta.json")
        super().__init__(list(self.meta))
        self.image_root = self.split_root / "JPEGImages"
        if all_frames:
            self.image_root = require_dir(Path(root) / str(year) / f"{split}_all_frames" / "JPEGImages",
                                          "YouTube-VOS all-frames")
        self.all_frames = all_frames

    def sequence(self, name: str) -> EvalSequence:
        """Build the sequence called ``name``."""
        objects = self.meta[name]
        listed = sorted({f for frames in objects.values() for f in frames})
        first_frames = sorted({frames[0] for frames in objects.values() if frames})
        if not listed:
            raise DatasetError(f"YouTube-VOS {self.split_root / 'meta.json'}: video {name} lists no frame")
        image_dir = self.image_root / name
        if self.all_frames:
            stems = [stem(f) for f in list_files(image_dir, (".jpg",))]
            stems = [s for s in stems if listed[0] <= s <= listed[-1]]
        else:
            stems = listed
        index = {s: i for i, s in enumerate(stems)}
        absent = [s for s in listed if s not in index]
        if absent:
            raise DatasetError(f"YouTube-VOS video {name}: listed frame {image_dir / (absent[0] + '.jpg')} "
                               f"does not exist")
        labels = {index[s]: self.split_root / "Annotations" / name / f"{s}.png" for s in first_frames}
        sparse = [index[s] for s in listed] if self.all_frames else None
        return EvalSequence(name, [image_dir / f"{s}.jpg" for s in stems], labels, sparse_frames=sparse)
