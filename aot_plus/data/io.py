"""Low-level readers and writers shared by every dataset: images, palette masks, sequence lists, the palette.

Conventions (``docs/datasets.md``): images are read with OpenCV and returned as RGB; masks are palette (or grey)
PNGs whose pixel values are object ids (0 background, 1..K objects, 255 void); frame order is the
natural order of the file names (zero-padded names sort as text); sequence lists hold one name per line.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

from aot_plus.data.errors import DatasetError
from aot_plus.io import images
from aot_plus.io.atomic import write_with
from aot_plus.io.images import InputError

PathLike = Union[str, os.PathLike]
IMAGE_SUFFIXES = images.IMAGE_SUFFIXES


def read_image(path: PathLike) -> np.ndarray:
    """Read an image as ``[H, W, 3]`` float32 RGB in 0..255 (:func:`aot_plus.io.read_rgb`).

    Raises:
        DatasetError: the file is missing or cannot be decoded (including a truncated JPEG or PNG, which OpenCV
            would decode with grey rows).
    """
    try:
        return images.read_rgb(path).astype(np.float32)
    except InputError as err:
        raise DatasetError(str(err)) from err


def read_label(path: PathLike) -> np.ndarray:
    """Read a mask of object ids as ``[H, W]`` uint8 (palette indices; colours are never looked at).

    Raises:
        DatasetError: the file is missing, cannot be decoded, or is a colour (RGB) image whose ids are unknown.
    """
    try:
        return images.read_label(path)
    except InputError as err:
        raise DatasetError(str(err)) from err


def read_list(path: PathLike) -> list[str]:
    """Read a sequence list (one name per line, whitespace stripped, blank lines skipped).

    Raises:
        DatasetError: the file is missing or lists no name.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"sequence list {path} does not exist")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise DatasetError(f"sequence list {path} is empty")
    return names


def list_files(folder: PathLike, suffixes: tuple[str, ...]) -> list[str]:
    """File names in ``folder`` whose suffix (case-insensitive) is one of ``suffixes``, in natural order.

    Raises:
        DatasetError: the folder is missing, holds no such file, or two files share a stem.
    """
    try:
        return [p.name for p in images.list_frames(folder, suffixes, what="folder")]
    except InputError as err:
        raise DatasetError(str(err)) from err


stem = images.frame_stem


def check_same_size(image: np.ndarray, label: np.ndarray, image_path: PathLike, label_path: PathLike) -> None:
    """Raise DatasetError when an image and its annotation differ in size."""
    if image.shape[:2] != label.shape[:2]:
        raise DatasetError(f"annotation {label_path} is {label.shape[1]}x{label.shape[0]} but image {image_path} "
                           f"is {image.shape[1]}x{image.shape[0]} (width x height)")


def davis_palette() -> np.ndarray:
    """The PASCAL/DAVIS colour map used by VOST annotations: ``[256, 3]`` uint8 (bit-interleaved RGB)."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        value, r, g, b = index, 0, 0, 0
        for bit in range(8):
            r |= ((value >> 0) & 1) << (7 - bit)
            g |= ((value >> 1) & 1) << (7 - bit)
            b |= ((value >> 2) & 1) << (7 - bit)
            value >>= 3
        palette[index] = (r, g, b)
    return palette


def write_label(path: PathLike, label: np.ndarray, palette: np.ndarray) -> None:
    """Write ``[H, W]`` uint8 ids as an 8-bit palette PNG, atomically (temporary file + rename)."""
    path = Path(path)
    label = np.ascontiguousarray(label, dtype=np.uint8)
    image = Image.frombytes("P", (label.shape[1], label.shape[0]), label.tobytes())
    image.putpalette(palette.astype(np.uint8).reshape(-1).tolist())
    write_with(path, lambda tmp: image.save(tmp, format="PNG"))


def require_dir(path: PathLike, what: str) -> Path:
    """Return ``path`` as a Path, or raise DatasetError saying which ``what`` folder is missing."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"{what} folder {path} does not exist")
    return path


def find_list(candidates: list[Path]) -> Path:
    """The first existing sequence list among ``candidates``; DatasetError naming all of them otherwise."""
    for path in candidates:
        if path.is_file():
            return path
    raise DatasetError("sequence list not found; looked for " + ", ".join(str(p) for p in candidates))
