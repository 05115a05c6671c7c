"""LVOS v1 / v2 reader: ``<split>/JPEGImages/<video>``, ``<split>/Annotations/<video>`` and the meta JSON.

The split folder (``valid``) holds ``<split>_meta.json`` (or ``meta.json``) whose objects carry a
``frame_range``; the LVOS validation release annotates every object on every annotated frame. The model is given,
on the first frame of each object's range, that object's mask only (the annotation of that frame also holds the
objects already being tracked: giving them again would hand the model ground truth). Frames before the first
object starts are not processed; results keep the frames' size. Scoring: ``python -m evaluation --metric lvos``
(see ``docs/benchmarks.md``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from aot_plus.data.errors import DatasetError
from aot_plus.data.io import list_files, stem
from aot_plus.data.sequence import EvalDataset, EvalSequence
from evaluation.errors import EvaluationError
from evaluation.lvos import frame_name, locate_lvos, read_lvos_meta


class LVOSEval(EvalDataset):
    """LVOS evaluation, videos in sorted name order (the official tool's order).

    Args:
        root: the split folder (holding ``JPEGImages``, ``Annotations`` and the meta file) or its parent.
        split: split name (``valid``; ``val`` finds ``valid/`` and ``valid_meta.json``).

    Raises:
        DatasetError: no meta file, or a malformed one.
    """

    name = "lvos"

    def __init__(self, root: Union[str, Path], split: str = "valid") -> None:
        try:
            split_dir, meta_path = locate_lvos(root, split)
            self.meta = read_lvos_meta(meta_path)
        except EvaluationError as err:
            raise DatasetError(str(err)) from None
        self.split_dir = Path(split_dir)
        self.meta_path = Path(meta_path)
        super().__init__(list(self.meta))

    def sequence(self, name: str) -> EvalSequence:
        """Build the video called ``name``: labels on each object's first frame, holding that object only."""
        image_dir = self.split_dir / "JPEGImages" / name
        frames = list_files(image_dir, (".jpg",))
        index = {stem(f): i for i, f in enumerate(frames)}
        starts: dict[int, list[int]] = {}
        for obj in self.meta[name]:
            first = frame_name(obj.start)
            if first not in index:
                raise DatasetError(f"LVOS video {name}: {self.meta_path} starts object '{obj.key}' on frame {first} "
                                   f"but {image_dir / (first + '.jpg')} does not exist")
            starts.setdefault(index[first], []).append(obj.object_id)
        if not starts:
            raise DatasetError(f"LVOS video {name}: {self.meta_path} lists no object")
        offset = min(starts)
        label_dir = self.split_dir / "Annotations" / name
        labels = {i - offset: label_dir / f"{stem(frames[i])}.png" for i in starts}
        objects = {i - offset: tuple(ids) for i, ids in starts.items()}
        return EvalSequence(name, [image_dir / f for f in frames[offset:]], labels, label_objects=objects)
