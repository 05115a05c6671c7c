"""Where a video's frames come from, and a bounded read-ahead queue in front of them.

A :class:`FrameSource` is a folder of images, a video file (anything OpenCV decodes) or any iterable of ``[H, W,
3]`` RGB arrays (a list, a generator, a camera). It names its frames (file stems for a folder, ``00000``,
``00001``... otherwise), knows its length when that is cheap and exact, and opens an iterator from the first
frame (a one-shot iterable can be opened only once).

A :class:`ReadAhead` pulls frames from such an iterator in a background thread and prepares them (resizing,
normalisation, copy to the device) at most ``depth`` frames ahead of the consumer, so neither the whole video nor
more than a handful of prepared frames are ever held.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Union

import cv2
import numpy as np

from aot_plus.inference.video_io import VideoSource
from aot_plus.io.images import frame_stem

log = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]


def count_video_frames(path: PathLike) -> int:
    """The number of frames a video file really holds, found by walking it (container metadata can be wrong)."""
    capture = cv2.VideoCapture(str(path))
    count = 0
    try:
        while capture.grab():
            count += 1
    finally:
        capture.release()
    return count


class FrameSource:
    """The frames of one video.

    Args:
        source: a folder of frames, a video file, or an iterable of ``[H, W, 3]`` RGB arrays (uint8 or float
            0..255).
        num_frames: the length when the source cannot tell it (an iterator); checked against a folder's or a
            list's own length.

    Raises:
        FileNotFoundError, ValueError: a missing path, an unreadable video, an empty folder, or a ``num_frames``
            that contradicts the source.
    """

    def __init__(self, source: Union[PathLike, Iterable[np.ndarray]], num_frames: Optional[int] = None) -> None:
        self.path: Optional[Path] = None
        self._video: Optional[VideoSource] = None
        self._iterable: Optional[Iterable[np.ndarray]] = None
        self._stems: Optional[list[str]] = None
        self._opened = False
        if isinstance(source, (str, os.PathLike)):
            self.path = Path(source)
            self._video = VideoSource(self.path)
            if self._video.frame_files is not None:
                self._stems = [frame_stem(p.name) for p in self._video.frame_files]
            own = len(self._stems) if self._stems is not None else None
        elif isinstance(source, np.ndarray) or not isinstance(source, Iterable):
            raise ValueError("a video source must be a folder of frames, a video file or an iterable of "
                             f"[H, W, 3] RGB arrays, got {type(source).__name__}")
        else:
            self._iterable = source
            own = len(source) if hasattr(source, "__len__") else None  # type: ignore[arg-type]
        if num_frames is not None and num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        if own is not None and num_frames is not None and own != num_frames:
            raise ValueError(f"num_frames={num_frames} but the source holds {own} frames")
        self._length = own if own is not None else num_frames

    @property
    def is_video_file(self) -> bool:
        """True for a video file (its length is known only after :meth:`count`)."""
        return self._video is not None and self._stems is None

    @property
    def rewindable(self) -> bool:
        """Whether :meth:`open` can start again from the first frame (paths and lists; not iterators)."""
        return self._video is not None or isinstance(self._iterable, (list, tuple))

    @property
    def length(self) -> Optional[int]:
        """The exact number of frames when known (folder, list, given ``num_frames``, counted video), else None."""
        return self._length

    @property
    def length_hint(self) -> Optional[int]:
        """The exact length, or a video file's container estimate (for progress bars only)."""
        if self._length is None and self._video is not None and self._video.num_frames > 0:
            return self._video.num_frames
        return self._length

    @property
    def fps(self) -> Optional[float]:
        """A video file's frame rate (None for folders and iterables)."""
        return self._video.fps if self._video is not None else None

    @property
    def first_frame(self) -> str:
        """What holds frame 0, for messages: its file, the video file, or "the first frame"."""
        return str(self._video.first_frame) if self._video is not None else "the first frame"

    def first_frame_size(self) -> tuple[int, int]:
        """(height, width) of frame 0, decoded on its own (a path or a list; not a one-shot iterator).

        Raises:
            RuntimeError: the source is a one-shot iterator.
            ValueError: frame 0 cannot be decoded.
        """
        if not self.rewindable:
            raise RuntimeError("the first frame of a one-shot iterator cannot be read ahead of time")
        if self._video is not None:
            frames = iter(self._video)
            try:
                return tuple(next(frames)[1].shape[:2])
            finally:
                frames.close()
        return tuple(np.asarray(self._iterable[0]).shape[:2])  # type: ignore[index]

    def count(self) -> int:
        """The exact length, walking a video file once if needed; ValueError for an iterator of unknown length."""
        if self._length is None:
            if not self.is_video_file:
                raise ValueError("the length of a frame iterator is unknown; pass num_frames")
            self._length = count_video_frames(self.path)
            if self._length == 0:
                raise ValueError(f"video {self.path}: no frame could be decoded")
        return self._length

    def frame_name(self, index: int) -> str:
        """The name of frame ``index`` (its file stem for a folder of frames, else the zero-padded index)."""
        if self._stems is not None:
            return self._stems[index]
        return f"{index:05d}"

    def open(self) -> Iterator[np.ndarray]:
        """An iterator of ``[H, W, 3]`` RGB frames from the first frame on.

        Raises:
            RuntimeError: a one-shot iterable that was opened before.
        """
        if self._opened and not self.rewindable:
            raise RuntimeError("this frame iterator was consumed already; pass a new one to init_state()")
        self._opened = True
        if self._video is not None:
            return (rgb for _, rgb in self._video)
        return iter(self._iterable)  # type: ignore[arg-type]


_DONE = object()


class ReadAhead:
    """Prepares the items of an iterator in a background thread, at most ``depth`` items ahead.

    :meth:`get` returns ``(index, item, prepared)`` in order, None at the end, and re-raises an error of the
    iterator or of ``prepare`` where it happened. :meth:`peek` looks at the next item without taking it.

    Args:
        items: the raw items (frames).
        prepare: what to compute from each item in the background.
        depth: queue size (prepared items waiting for the consumer).
        start: index of the first item.
    """

    def __init__(self, items: Iterator[Any], prepare: Callable[[Any], Any], depth: int = 2, start: int = 0) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._head: Optional[tuple] = None
        self._produced = 0
        self._consumed = 0
        self._finished = False
        self._thread = threading.Thread(target=self._work, args=(items, prepare, start), name="frame-read-ahead",
                                        daemon=True)
        self._thread.start()

    def _work(self, items: Iterator[Any], prepare: Callable[[Any], Any], start: int) -> None:
        try:
            for index, item in enumerate(items, start=start):
                if self._stop.is_set():
                    return
                prepared = prepare(item)
                self._produced += 1
                if not self._put((True, (index, item, prepared))):
                    return
        except BaseException as err:  # handed to the consumer, which re-raises it
            self._put((False, err))
            return
        self._put((True, _DONE))

    def _put(self, entry: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    @property
    def held(self) -> int:
        """Items read and prepared but not yet taken by :meth:`get` (the queue, a peeked one, one being put)."""
        return self._produced - self._consumed

    def peek(self) -> Optional[tuple]:
        """The next ``(index, item, prepared)`` without taking it; None at the end."""
        if self._head is None and not self._finished:
            ok, value = self._queue.get()
            if not ok:
                self._finished = True
                raise value
            if value is _DONE:
                self._finished = True
            else:
                self._head = value
        return self._head

    def get(self) -> Optional[tuple]:
        """The next ``(index, item, prepared)``; None once the iterator is exhausted."""
        entry = self.peek()
        if entry is not None:
            self._head = None
            self._consumed += 1
        return entry

    def close(self) -> None:
        """Stop the thread and drop what it prepared."""
        self._stop.set()
        self._head = None
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()
