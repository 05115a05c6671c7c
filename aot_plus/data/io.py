"""Low-level readers and writers shared by every dataset: images, palette masks, sequence lists, the palette.

Conventions (``data.md``, start): images are read with OpenCV and returned as RGB; masks are palette (or grey)
PNGs whose pixel values are object ids (0 background, 1..K objects, 255 void); frame order is the
lexicographic order of the file names; sequence lists hold one name per line.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union

import cv2
import numpy as np
from PIL import Image

from aot_plus.data.errors import DatasetError

PathLike = Union[str, os.PathLike]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
MASK_MODES = ("P", "L")
_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"
_JPEG_TAIL = 1024
"""A JPEG's end-of-image marker must lie in its last bytes (OpenCV silently decodes a truncated file)."""


def read_image(path: PathLike) -> np.ndarray:
    """Read an image as ``[H, W, 3]`` float32 RGB in 0..255.

    Raises:
        DatasetError: the file is missing or cannot be decoded (including a truncated JPEG, which OpenCV would
            decode with grey rows).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"image {path} does not exist")
    data = np.fromfile(path, dtype=np.uint8)
    if data[:2].tobytes() == _JPEG_START and _JPEG_END not in data[-_JPEG_TAIL:].tobytes():
        raise DatasetError(f"image {path} cannot be decoded: truncated JPEG (no end-of-image marker)")
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise DatasetError(f"image {path} cannot be decoded (corrupt or not an image)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32)


def read_label(path: PathLike) -> np.ndarray:
    """Read a mask of object ids as ``[H, W]`` uint8 (palette indices; colours are never looked at).

    Raises:
        DatasetError: the file is missing, cannot be decoded, or is a colour (RGB) image whose ids are unknown.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"annotation {path} does not exist")
    try:
        with Image.open(path) as image:
            if image.mode not in MASK_MODES:
                raise DatasetError(f"annotation {path}: expected a palette (P) or grey-scale (L) PNG of object "
                                   f"ids, got mode {image.mode!r}")
            return np.array(image, dtype=np.uint8)
    except (OSError, SyntaxError) as err:
        raise DatasetError(f"annotation {path} cannot be decoded: {err}") from err


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
    """Sorted file names in ``folder`` whose suffix (case-insensitive) is one of ``suffixes``.

    Raises:
        DatasetError: the folder is missing or holds no such file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"folder {folder} does not exist")
    names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file())
    if not names:
        raise DatasetError(f"folder {folder} holds no {'/'.join(suffixes)} file")
    return names


def stem(name: str) -> str:
    """A frame's stem: the file name up to its first dot (``00012.jpg`` -> ``00012``)."""
    return name.split(".")[0]


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
    _atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


def write_bytes(path: PathLike, data: bytes) -> None:
    """Write raw bytes (an encoded image) atomically."""
    _atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(data))


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
