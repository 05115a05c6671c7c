"""Reading a user's video (a file or a folder of frames) and first mask, and writing an overlay video (OpenCV)."""
from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Iterator, Optional, Union

import cv2
import numpy as np

from aot_plus.inference.writer import palette_rgb
from aot_plus.io.atomic import OutputError, atomic_path
from aot_plus.io.images import InputError, frame_stem, list_frames, read_first_mask, read_rgb

PathLike = Union[str, os.PathLike]
__all__ = ["VideoSource", "OverlayVideoWriter", "overlay", "read_rgb", "read_first_mask"]


class VideoSource:
    """The frames of a video file (anything OpenCV decodes) or of a folder of images in natural name order.

    Iterating yields ``(stem, rgb)`` pairs: the frame's file stem (``00000``, ``00001``... for a video file) and an
    ``[H, W, 3]`` uint8 RGB array. Every frame must have the first frame's size.

    Args:
        path: a video file or a folder of images (listed by :func:`aot_plus.io.list_frames`).

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the video cannot be opened, the folder holds no images or two with one stem; while iterating,
            a frame that cannot be decoded or has another size than frame 0 (the message names the files).
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"video {self.path} does not exist")
        self.frame_files: Optional[list[Path]] = None
        if self.path.is_dir():
            self.frame_files = list_frames(self.path)
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

    @property
    def first_frame(self) -> Path:
        """The file holding frame 0 (the video itself for a video file), for messages."""
        return self.frame_files[0] if self.frame_files else self.path

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        first: Optional[tuple[int, ...]] = None
        for index, (stem, name, rgb) in enumerate(self._decode()):
            if first is None:
                first = rgb.shape[:2]
            elif rgb.shape[:2] != first:
                raise InputError(f"frame {index} ({name}) is {rgb.shape[1]}x{rgb.shape[0]} but frame 0 "
                                 f"({self.first_frame}) is {first[1]}x{first[0]} (width x height); every frame "
                                 "of a video must have one size")
            yield stem, rgb

    def _decode(self) -> Iterator[tuple[str, Path, np.ndarray]]:
        if self.frame_files is not None:
            for index, file in enumerate(self.frame_files):
                yield frame_stem(file.name), file, read_rgb(file, index)
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            index = 0
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                yield f"{index:05d}", self.path, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise ValueError(f"video {self.path}: no frame could be decoded")


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

    The frames go to a temporary file next to ``path`` (:func:`aot_plus.io.atomic_path`); :meth:`close` reads the
    file back and moves it into place only when every frame is in it, so a full disk is an error, not a
    truncated video. Odd frame sizes are padded by one replicated row/column, since the codecs only encode even
    sizes.

    Args:
        path: output file (``.mp4`` uses ``mp4v``, ``.avi`` uses ``MJPG``).
        fps: frame rate.

    Raises:
        OutputError: (from :meth:`write` or :meth:`close`) the folder is not writable or the disk is full.
    """

    def __init__(self, path: PathLike, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps
        self.fourcc = cv2.VideoWriter_fourcc(*("MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"))
        self._writer: Optional[cv2.VideoWriter] = None
        self._file: Optional[contextlib.ExitStack] = None
        self._size = (0, 0)
        self.frames = 0

    def write(self, rgb: np.ndarray) -> None:
        """Append one ``[H, W, 3]`` RGB frame (every frame must have the first frame's size)."""
        if self._writer is None:
            self._file = contextlib.ExitStack()
            tmp = self._file.enter_context(atomic_path(self.path))
            height, width = rgb.shape[:2]
            self._size = (width + width % 2, height + height % 2)
            self._writer = cv2.VideoWriter(str(tmp), self.fourcc, self.fps, self._size)
            self.tmp = tmp
            if not self._writer.isOpened():
                self.abort()
                raise ValueError(f"overlay video {self.path}: OpenCV cannot write the format {self.path.suffix!r} "
                                 "(use .mp4 or .avi)")
        height, width = rgb.shape[:2]
        pad_w, pad_h = self._size[0] - width, self._size[1] - height
        if pad_w < 0 or pad_h < 0 or pad_w > 1 or pad_h > 1:
            raise ValueError(f"overlay video {self.path}: frame of size {width}x{height} after frames of "
                             f"{self._size[0]}x{self._size[1]}")
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if pad_w or pad_h:
            bgr = cv2.copyMakeBorder(bgr, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        self._writer.write(bgr)
        self.frames += 1

    def close(self) -> None:
        """Finish the file, check that every frame can be decoded back, and move it into place."""
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        stored = _frame_count(self.tmp)
        if stored != self.frames:
            self.abort()
            raise OutputError(errno.EIO, f"cannot write {self.path}: only {max(stored, 0)} of {self.frames} "
                                         "frames could be read back from the written video (disk full?)")
        file, self._file = self._file, None
        file.close()

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._file is not None:
            file, self._file = self._file, None
            file.__exit__(RuntimeError, RuntimeError("overlay aborted"), None)


def _frame_count(path: Path) -> int:
    """The number of frames OpenCV decodes from a video file (-1 when it cannot open it).

    Every frame is decoded: a file cut short by a full disk may still announce all its frames in its header.
    """
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return -1
        count = 0
        while capture.read()[0]:
            count += 1
        return count
    finally:
        capture.release()
