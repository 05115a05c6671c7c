"""Dataset layouts, sequence lists and palette-PNG reading.

Two layouts are understood:

* ``vost``: ``<root>/ImageSets/<set>.txt`` and ``<root>/Annotations/<sequence>/*.png`` (VOST, and the
  flat Long Videos copies used by the RMem/EMFS scripts);
* ``davis``: ``<root>/ImageSets/2017/<set>.txt`` and ``<root>/Annotations/<resolution>/<sequence>/*.png``
  (DAVIS 2017 and the Long Videos release, resolution ``480p`` or ``Full-Resolution``).

``auto`` picks ``davis`` when ``<root>/Annotations/<resolution>`` is a folder, else ``vost``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from evaluation.errors import DatasetError, MissingSequenceError, NotPaletteError, PathLike

Layout = Literal["auto", "vost", "davis"]
#: Year folder of the DAVIS-style ImageSets.
DAVIS_YEAR = "2017"


@dataclass(frozen=True)
class DatasetPaths:
    """Where a dataset keeps its sequence list and its annotation folders.

    Attributes:
        list_file: the ImageSets file naming the sequences of the split.
        annotation_root: the folder holding one annotation folder per sequence.
    """

    list_file: str
    annotation_root: str

    def annotation_dir(self, sequence: str) -> str:
        """Folder of the annotation PNGs of ``sequence``."""
        return os.path.join(self.annotation_root, sequence)


def resolve_layout(
    dataset_path: PathLike, subset: str, layout: Layout = "auto", resolution: str = "480p"
) -> DatasetPaths:
    """Locate the list file and annotation root of a dataset.

    Args:
        dataset_path: dataset root folder.
        subset: split name (``val``, ``train``, ...): the list file is ``<subset>.txt``.
        layout: ``vost``, ``davis`` or ``auto`` (see the module docstring).
        resolution: DAVIS resolution folder (``davis`` layout only).

    Raises:
        DatasetError: the root, the list file or the annotation folder is missing.
        ValueError: an unknown layout name.
    """
    root = os.fspath(dataset_path)
    if not os.path.isdir(root):
        raise DatasetError(f"dataset folder {root} does not exist: expected a VOST or DAVIS layout")
    if layout == "auto":
        layout = "davis" if os.path.isdir(os.path.join(root, "Annotations", resolution)) else "vost"
    if layout == "davis":
        paths = DatasetPaths(
            list_file=os.path.join(root, "ImageSets", DAVIS_YEAR, f"{subset}.txt"),
            annotation_root=os.path.join(root, "Annotations", resolution),
        )
    elif layout == "vost":
        paths = DatasetPaths(
            list_file=os.path.join(root, "ImageSets", f"{subset}.txt"),
            annotation_root=os.path.join(root, "Annotations"),
        )
    else:
        raise ValueError(f"unknown dataset layout '{layout}': expected 'auto', 'vost' or 'davis'")
    if not os.path.isfile(paths.list_file):
        raise DatasetError(f"sequence list {paths.list_file} not found: expected one sequence name per line")
    if not os.path.isdir(paths.annotation_root):
        raise DatasetError(f"annotation folder {paths.annotation_root} not found: expected one folder per sequence")
    return paths


def read_sequence_list(list_file: PathLike) -> list[str]:
    """Sequence names of a list file: stripped lines in file order, a repeated name kept once.

    Raises:
        DatasetError: a blank line (the official evaluator crashes on it).
    """
    with open(list_file, encoding="utf-8") as handle:
        lines = handle.readlines()
    names: dict[str, None] = {}
    for number, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            raise DatasetError(f"{list_file} line {number} is blank: expected a sequence name on every line")
        names.setdefault(name, None)
    return list(names)


def annotation_frames(paths: DatasetPaths, sequence: str) -> list[str]:
    """Sorted paths of a sequence's annotation PNGs (``*.png``, sorted as path strings).

    Raises:
        MissingSequenceError: the folder is missing or holds no PNG.
    """
    folder = paths.annotation_dir(sequence)
    try:
        entries = os.listdir(folder)
    except OSError:
        entries = []
    names = sorted(name for name in entries if name.endswith(".png") and not name.startswith("."))
    if not names:
        raise MissingSequenceError.for_sequence(sequence, folder, paths.list_file)
    return [os.path.join(folder, name) for name in names]


def frame_name(path: PathLike) -> str:
    """Frame id of an annotation path: its file name without the ``.png`` extension."""
    return os.path.splitext(os.path.basename(os.fspath(path)))[0]


def open_index_png(path: PathLike) -> Image.Image:
    """Open a PNG lazily and check that it is a palette image (pixel data not decoded yet).

    Raises:
        FileNotFoundError: the file does not exist (callers turn it into their own error).
        NotPaletteError: the file is not a readable image, or not in mode 'P'.
    """
    try:
        image = Image.open(path)
    except FileNotFoundError:
        raise
    except (UnidentifiedImageError, OSError) as exc:
        raise NotPaletteError.for_file(path, f"not a readable image ({exc})") from None
    if image.mode != "P":
        image.close()
        raise NotPaletteError.for_file(path, f"a mode '{image.mode}' image")
    return image


def decode_indices(image: Image.Image, path: PathLike) -> np.ndarray:
    """Decode an opened palette image into its uint8 (H, W) index map.

    Raises:
        NotPaletteError: the pixel data is truncated or corrupt.
    """
    try:
        with image:
            return np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as exc:
        raise NotPaletteError.for_file(path, f"a corrupt PNG ({exc})") from None
