"""The evaluation-side view of a video: frames, the labels given to the model, object ids, sizes.

Object ids follow the reference reader (:class:`aot_plus.data.object_ids.ObjectIds`): walking the frames in
order, every label frame appends the ids it introduces (ascending, 255 included) to the list of known ids, which
starts as [0]. A label is delivered "squeezed": the id at position j of that list becomes j. For VOST, void in the
first annotation is therefore tracked as an extra pseudo-object whose original id is 255.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

import numpy as np
from PIL import Image

from aot_plus.data.errors import DatasetError
from aot_plus.data.io import read_image, read_label, stem
from aot_plus.data.object_ids import ObjectIds
from aot_plus.io.images import has_object


class EvalSequence:
    """One video to segment.

    Args:
        name: sequence name (the result folder's name).
        frame_paths: the frames to process, in order.
        label_paths: frame index -> annotation given to the model (index 0 is required).
        binarize: merge every object into id 1 (DAVIS 2016, Long Videos).
        output_height: results are written at this height (width ``ceil(w * h_out / h)``); None = original.
        sparse_frames: indices of the frames whose results the benchmark scores (YouTube-VOS all-frames mode).
        label_objects: frame index -> the original ids the model is given from that frame's annotation (the other
            ids become background); frames not listed give every id (LVOS annotates tracked objects too).

    Raises:
        DatasetError: no frame, no annotation for the first frame, or a listed annotation file is missing.
    """

    def __init__(self, name: str, frame_paths: Sequence[Path], label_paths: Mapping[int, Path], *,
                 binarize: bool = False, output_height: Optional[int] = None,
                 sparse_frames: Optional[Sequence[int]] = None,
                 label_objects: Optional[Mapping[int, Sequence[int]]] = None) -> None:
        if not frame_paths:
            raise DatasetError(f"sequence {name}: no frame to process")
        self.name = name
        self.frame_paths = tuple(Path(p) for p in frame_paths)
        if 0 not in label_paths:
            raise DatasetError(f"sequence {name}: the first frame {self.frame_paths[0]} has no annotation")
        for index, path in sorted(label_paths.items()):
            if not 0 <= index < len(self.frame_paths):
                raise DatasetError(f"sequence {name}: annotation {path} belongs to no processed frame")
            if not Path(path).is_file():
                what = "first-frame annotation" if index == 0 else "annotation"
                raise DatasetError(f"sequence {name}: {what} {path} does not exist (frame "
                                   f"{self.frame_paths[index].name})")
        self.label_paths = {int(i): Path(p) for i, p in sorted(label_paths.items())}
        self.binarize = binarize
        self.output_height = output_height
        self.sparse_frames = None if sparse_frames is None else frozenset(sparse_frames)
        self.label_objects = {int(i): tuple(int(v) for v in ids) for i, ids in (label_objects or {}).items()}
        self._size: Optional[tuple[int, int]] = None
        self._ids: Optional[list[ObjectIds]] = None

    def __len__(self) -> int:
        return len(self.frame_paths)

    def __repr__(self) -> str:
        return f"EvalSequence({self.name!r}, {len(self)} frames, labels at {sorted(self.label_paths)})"

    @property
    def stems(self) -> list[str]:
        """Frame stems (file name without its last suffix): the result PNGs are ``<stem>.png``."""
        return [stem(p.name) for p in self.frame_paths]

    @property
    def first_label_path(self) -> Path:
        """The first frame's annotation (copied as the first result file)."""
        return self.label_paths[0]

    @property
    def size(self) -> tuple[int, int]:
        """Original (height, width), from the first frame's header."""
        if self._size is None:
            path = self.frame_paths[0]
            try:
                with Image.open(path) as image:
                    width, height = image.size
            except (OSError, SyntaxError) as err:
                raise DatasetError(f"image {path} cannot be decoded: {err}") from err
            self._size = (height, width)
        return self._size

    @property
    def output_size(self) -> tuple[int, int]:
        """(height, width) of the result PNGs."""
        height, width = self.size
        if self.output_height is None:
            return height, width
        return self.output_height, int(math.ceil(width * self.output_height / height))

    def load_image(self, index: int) -> np.ndarray:
        """Frame ``index`` as ``[H, W, 3]`` float32 RGB 0..255.

        Raises:
            DatasetError: the image is corrupt or its size differs from the first frame's.
        """
        path = self.frame_paths[index]
        image = read_image(path)
        if image.shape[:2] != self.size:
            raise DatasetError(f"image {path} is {image.shape[1]}x{image.shape[0]} but the sequence's first frame "
                               f"{self.frame_paths[0]} is {self.size[1]}x{self.size[0]} (width x height)")
        return image

    def raw_label(self, index: int) -> np.ndarray:
        """The annotation of frame ``index`` with its original ids (only ``label_objects[index]`` when listed;
        binarised when ``binarize``).

        Raises:
            KeyError: the frame carries no annotation.
            DatasetError: the file is unreadable or its size differs from the frames'.
        """
        path = self.label_paths[index]
        label = read_label(path)
        if label.shape != self.size:
            raise DatasetError(f"annotation {path} is {label.shape[1]}x{label.shape[0]} but image "
                               f"{self.frame_paths[index]} is {self.size[1]}x{self.size[0]} (width x height)")
        if index in self.label_objects:
            label = np.where(np.isin(label, self.label_objects[index]), label, 0).astype(np.uint8)
        if index == 0 and not has_object(label):
            raise DatasetError(f"first annotation {path} holds no object (every pixel is background 0 or void "
                               "255): there is nothing to track and nothing to score")
        return (label > 0).astype(np.uint8) if self.binarize else label

    def _object_ids(self) -> list[ObjectIds]:
        if self._ids is None:
            known = ObjectIds()
            per_frame = []
            for index in range(len(self)):
                if index in self.label_paths:
                    known = known.copy()  # the lists of earlier frames stay as they were
                    known.add(self.raw_label(index))
                per_frame.append(known)
            self._ids = per_frame
        return self._ids

    def ids_at(self, index: int) -> tuple[int, ...]:
        """Original ids known after frame ``index``'s label, starting with 0: position j is squeezed id j."""
        return tuple(self._object_ids()[index].ids)

    @property
    def object_ids(self) -> tuple[int, ...]:
        """Every original object id (0 excluded) in order of first appearance."""
        return self.ids_at(len(self) - 1)[1:]

    def num_objects(self, index: int) -> int:
        """Number of objects known after frame ``index``'s label (the void pseudo-object included)."""
        return len(self.ids_at(index)) - 1

    def new_objects(self, index: int) -> tuple[int, ...]:
        """Squeezed ids introduced by frame ``index``'s label (empty for unlabelled frames)."""
        before = 1 if index == 0 else len(self.ids_at(index - 1))
        return tuple(range(before, len(self.ids_at(index))))

    def load_label(self, index: int) -> np.ndarray:
        """Frame ``index``'s annotation squeezed to ids 0..K (``[H, W]`` uint8).

        Raises:
            KeyError: the frame carries no annotation.
        """
        return self._object_ids()[index].squeeze(self.raw_label(index))

    def original_ids(self, index: int) -> np.ndarray:
        """Lookup table ``[256]`` uint8 mapping squeezed ids to original ids (unknown -> 0), for writing."""
        return self._object_ids()[index].restore_table()


class EvalDataset(ABC):
    """A split of an evaluation dataset: an ordered list of sequence names, each built on demand."""

    name = "dataset"

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> EvalSequence:
        return self.sequence(self.names[index])

    def __iter__(self) -> Iterator[EvalSequence]:
        for name in self.names:
            yield self.sequence(name)

    @abstractmethod
    def sequence(self, name: str) -> EvalSequence:
        """Build the sequence called ``name``."""
