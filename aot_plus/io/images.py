"""Reading frames and masks: one place for listing a frame folder, decoding images and validating a first mask.

Rules every reader follows:

- a frame folder is listed in natural order (``2.jpg`` before ``10.jpg``; zero-padded names keep their
  lexicographic order), names may contain dots (the stem is the name without its last suffix), and two files
  with the same stem (``a.jpg`` and ``a.png``) are an error, since each frame's result is ``<stem>.png``;
- a file that cannot be decoded, including a truncated JPEG or PNG (which OpenCV would silently decode with grey
  rows), is an :class:`InputError` naming the file and, when known, the frame index;
- a user's first mask is a palette PNG with at least one object, or, when the caller asks for it, a binary or
  grey-scale image read as one object; a mask must have its frame's size, and the message names both files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional, Sequence, Union

import cv2
import numpy as np
from PIL import Image

PathLike = Union[str, os.PathLike]

#: Suffixes (lower case) of the image files a frame folder may hold.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: PIL modes whose pixel values are object ids.
LABEL_MODES = ("P", "L")
#: Grey value above which a binary or grey-scale mask read as one object is foreground.
BINARY_THRESHOLD = 127

_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"
_PNG_START, _PNG_END = b"\x89PNG", b"IEND"
_TAIL = 1024
"""An end marker must lie in a file's last bytes (OpenCV decodes a truncated JPEG or PNG without complaint)."""
_DIGITS = re.compile(r"(\d+)")


class InputError(ValueError):
    """An input image, mask or frame folder is missing, unreadable or inconsistent; the message names the file."""


def natural_key(name: str) -> tuple:
    """Sort key putting ``2.jpg`` before ``10.jpg`` (digit runs compare as numbers, ties by the plain name)."""
    parts = _DIGITS.split(name)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name


def frame_stem(name: str) -> str:
    """A frame's stem: its file name without the last suffix (``a.b.jpg`` -> ``a.b``, ``00012.jpg`` -> ``00012``)."""
    return Path(name).stem


def list_frames(folder: PathLike, suffixes: Sequence[str] = IMAGE_SUFFIXES, what: str = "frame folder") -> list[Path]:
    """The image files of ``folder`` whose suffix (any case) is in ``suffixes``, in natural order.

    Raises:
        InputError: the folder is missing, holds no such file, or two files share a stem.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{what} {folder} does not exist")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file()),
                   key=lambda p: natural_key(p.name))
    if not files:
        raise InputError(f"{what} {folder} holds no {'/'.join(suffixes)} file")
    seen: dict[str, Path] = {}
    for file in files:
        previous = seen.setdefault(frame_stem(file.name), file)
        if previous is not file:
            raise InputError(f"{what} {folder}: {previous.name} and {file.name} have the same name "
                             f"{frame_stem(file.name)!r} (each frame needs its own; rename or remove one)")
    return files


def _describe(path: Path, index: Optional[int]) -> str:
    return f"frame {index} ({path})" if index is not None else f"image {path}"


def _truncation(data: np.ndarray) -> Optional[str]:
    head, tail = data[:4].tobytes(), data[-_TAIL:].tobytes()
    if head[:2] == _JPEG_START and _JPEG_END not in tail:
        return "truncated JPEG (no end-of-image marker)"
    if head == _PNG_START and _PNG_END not in tail:
        return "truncated PNG (no IEND chunk)"
    return None


def read_rgb(path: PathLike, index: Optional[int] = None) -> np.ndarray:
    """Read an image as ``[H, W, 3]`` uint8 RGB.

    Args:
        path: the image file.
        index: the frame's index in its video, named in errors.

    Raises:
        InputError: the file is missing, truncated or cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{_describe(path, index)} does not exist")
    data = np.fromfile(path, dtype=np.uint8)
    problem = _truncation(data) if data.size else "empty file"
    if problem is None:
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if bgr is not None:
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        problem = "corrupt or not an image"
    raise InputError(f"{_describe(path, index)} cannot be decoded: {problem}")


def read_label(path: PathLike, what: str = "annotation") -> np.ndarray:
    """Read a mask of object ids (a palette or grey-scale PNG) as ``[H, W]`` uint8; colours are never looked at.

    Raises:
        InputError: the file is missing, cannot be decoded, or is a colour image whose ids are unknown.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist")
    try:
        with Image.open(path) as image:
            if image.mode not in LABEL_MODES:
                raise InputError(f"{what} {path}: expected a palette (P) or grey-scale (L) PNG of object ids, got "
                                 f"mode {image.mode!r}")
            return np.array(image, dtype=np.uint8)
    except (OSError, SyntaxError) as err:
        raise InputError(f"{what} {path} cannot be decoded: {err}") from err


def has_object(label: np.ndarray) -> bool:
    """True when a mask holds at least one object id (a value other than background 0 and void 255)."""
    return bool(np.isin(label, (0, 255), invert=True).any())


def read_first_mask(path: PathLike, frame_size: Optional[tuple[int, int]] = None,
                    frame_path: Optional[PathLike] = None, binary: bool = False) -> np.ndarray:
    """Read and check the first-frame mask a user gives: ``[H, W]`` uint8 object ids.

    Args:
        path: the mask file: a palette PNG whose indices are object ids (0 background, 255 void).
        frame_size: ``(height, width)`` of the first frame; the mask must match it.
        frame_path: the first frame's file (or video), named when the sizes differ.
        binary: read a binary or grey-scale image (any format, e.g. a JPEG) as one object: pixels brighter
            than :data:`BINARY_THRESHOLD` are object 1.

    Raises:
        InputError: the file is missing or undecodable, is not a palette PNG (without ``binary``), holds no
            object, or its size differs from the frame's.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"mask {path} does not exist")
    try:
        with Image.open(path) as image:
            image.load()
            if frame_size is not None and (image.height, image.width) != tuple(frame_size):
                frame = f"frame 0 ({frame_path})" if frame_path is not None else "the first frame"
                raise InputError(f"mask {path} is {image.width}x{image.height} but {frame} is "
                                 f"{frame_size[1]}x{frame_size[0]} (width x height)")
            if binary:
                mask = (np.array(image.convert("L")) > BINARY_THRESHOLD).astype(np.uint8)
            elif image.mode == "P":
                mask = np.array(image, dtype=np.uint8)
            else:
                raise InputError(f"mask {path} is a {image.format or 'non-PNG'} image of mode {image.mode!r}, not a "
                                 "palette PNG of object ids; save it as an indexed (palette) PNG, or pass "
                                 "--binary-mask to read it as one object")
    except (OSError, SyntaxError) as err:
        raise InputError(f"mask {path} cannot be decoded: {err}") from err
    if not has_object(mask):
        hint = "; a black-and-white mask needs --binary-mask" if not binary and (mask == 255).any() else ""
        raise InputError(f"mask {path} holds no object (every pixel is background 0 or void 255){hint}")
    return mask
