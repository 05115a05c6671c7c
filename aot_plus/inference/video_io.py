"""Reading a user's video (a file or a folder of frames) and first mask, and writing an overlay video (OpenCV)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Optional, Union

import cv2
import numpy as np
from PIL import Image

from aot_plus.inference.writer import palette_rgb

PathLike = Union[str, os.PathLike]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


class VideoSource:
    """The frames of a video file (anything OpenCV decodes) or of a folder of images sorted by name.

    Iterating yields ``(stem, rgb)`` pairs: the frame's file stem (``00000``, ``00001``... for a video file) and an
    ``[H, W, 3]`` uint8 RGB array.

    Args:
        path: a video file or a folder of images.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the video cannot be opened or the folder holds no images.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"video {self.path} does not exist")
        self.frame_files: Optional[list[Path]] = None
        if self.path.is_dir():
            self.frame_files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.frame_files:
                raise ValueError(f"frame folder {self.path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
            self.fps: Optional[float] = None
            self.num_frames = len(self.frame_files)
        else:
            capture = cv2.VideoCapture(str(self.path))
            if not capture.isOpened():
                raise ValueError(f"video {self.path}: OpenCV cannot open it (unknown format or codec)")
            fps = capture.get(cv2.CAP_PROP_FPS)
            self.fps = float(fps) if fps and fps > 0 else None
            self.num_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            capture.release()

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        if self.frame_files is not None:
            for file in self.frame_files:
                yield file.stem.split(".")[0], read_rgb(file)
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            index = 0
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                yield f"{index:05d}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise ValueError(f"video {self.path}: no frame could be decoded")


def read_rgb(path: PathLike) -> np.ndarray:
    """Read an image file as ``[H, W, 3]`` uint8 RGB; a clear error when it cannot be decoded."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"image {path} cannot be decoded")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def read_mask(path: PathLike) -> np.ndarray:
    """Read a mask of object ids: a palette (``P``) or grey-scale PNG, ``[H, W]`` uint8.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the image is colour (RGB): ids cannot be read from it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask {path} does not exist")
    with Image.open(path) as image:
        if image.mode not in ("P", "L", "1", "I", "I;16"):
            raise ValueError(f"mask {path}: expected a palette or grey-scale PNG of object ids, got mode "
                             f"{image.mode!r}")
        mask = np.array(image)
    if mask.dtype != np.uint8:
        if mask.max() > 255:
            raise ValueError(f"mask {path}: object ids must lie in 0..255, got up to {mask.max()}")
        mask = mask.astype(np.uint8)
    return mask


def overlay(rgb: np.ndarray, label: np.ndarray, alpha: float) -> np.ndarray:
    """Blend the palette colour of every non-zero id into an RGB frame, with darker object outlines."""
    colours = palette_rgb()[label]
    fg = label > 0
    out = rgb.astype(np.float32)
    out[fg] = (1.0 - alpha) * out[fg] + alpha * colours[fg].astype(np.float32)
    edges = cv2.morphologyEx(label, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    out[edges & fg] = colours[edges & fg] * 0.6
    return out.clip(0, 255).astype(np.uint8)


class OverlayVideoWriter:
    """Writes RGB frames to a video file (codec chosen from the suffix); the file appears only when closed.

    Odd frame sizes are padded by one replicated row/column, since the codecs only encode even sizes.

    Args:
        path: output file (``.mp4`` uses ``mp4v``, ``.avi`` uses ``MJPG``).
        fps: frame rate.
    """

    def __init__(self, path: PathLike, fps: float) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.fps = fps
        self.fourcc = cv2.VideoWriter_fourcc(*("MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"))
        self._writer: Optional[cv2.VideoWriter] = None
        self._size = (0, 0)

    def write(self, rgb: np.ndarray) -> None:
        """Append one ``[H, W, 3]`` RGB frame (every frame must have the first frame's size)."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            height, width = rgb.shape[:2]
            self._size = (width + width % 2, height + height % 2)
            self._writer = cv2.VideoWriter(str(self.tmp), self.fourcc, self.fps, self._size)
            if not self._writer.isOpened():
                raise ValueError(f"overlay video {self.path}: OpenCV cannot write this format")
        height, width = rgb.shape[:2]
        pad_w, pad_h = self._size[0] - width, self._size[1] - height
        if pad_w < 0 or pad_h < 0 or pad_w > 1 or pad_h > 1:
            raise ValueError(f"overlay video {self.path}: frame of size {width}x{height} after frames of "
                             f"{self._size[0]}x{self._size[1]}")
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if pad_w or pad_h:
            bgr = cv2.copyMakeBorder(bgr, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        self._writer.write(bgr)

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self.tmp.unlink(missing_ok=True)
