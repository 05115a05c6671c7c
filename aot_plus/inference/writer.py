"""Palette PNG results in the dataset layout, one sequence folder at a time, moved into place atomically.

A sequence is written into ``<root>/.partial/<sequence>/`` and, once every frame is on disk, renamed to
``<root>/<sequence>/`` with :func:`os.replace`. A sequence folder therefore either does not exist or is complete,
whatever interrupts the run, and a rerun can skip every sequence folder it finds.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

import numpy as np
from PIL import Image

from aot_plus.io.atomic import replace_folder

if TYPE_CHECKING:
    from aot_plus.inference.frame_output import FrameOutput

PathLike = Union[str, os.PathLike]
log = logging.getLogger(__name__)

PARTIAL_DIR = ".partial"

_HEAD = [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128), (0, 128, 128),
         (128, 128, 128), (64, 0, 0), (191, 0, 0), (64, 128, 0), (191, 128, 0), (64, 0, 128), (191, 0, 128),
         (64, 128, 128), (191, 128, 128), (0, 64, 0), (128, 64, 0), (0, 191, 0), (128, 191, 0), (0, 64, 128),
         (128, 64, 128)]


def prediction_palette() -> list[int]:
    """The reference's prediction palette, flat (768 values): 22 DAVIS-like colours, then grey (i, i, i).

    The DAVIS colour map with 191 where DAVIS has 192, truncated after 22 entries (``docs/datasets.md``, Result
    files).
    """
    colours = _HEAD + [(i, i, i) for i in range(len(_HEAD), 256)]
    return [c for rgb in colours for c in rgb]


PALETTE: tuple[int, ...] = tuple(prediction_palette())


def palette_rgb() -> np.ndarray:
    """The prediction palette as a ``[256, 3]`` uint8 array (index -> RGB), e.g. for overlays."""
    return np.asarray(PALETTE, dtype=np.uint8).reshape(256, 3)


def save_palette_png(path: PathLike, label: np.ndarray, palette: Optional[list[int]] = None) -> None:
    """Write a 2-D uint8 label map as an 8-bit palette PNG (the palette is always attached).

    Args:
        path: file to write.
        label: ``[H, W]`` array of ids 0..255.
        palette: flat list of 768 values; the prediction palette by default.
    """
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f"{path}: a label map must be 2-D, got shape {label.shape}")
    if label.dtype != np.uint8:
        if label.size and (label.min() < 0 or label.max() > 255):
            raise ValueError(f"{path}: label ids must lie in 0..255, got {label.min()}..{label.max()}")
        label = label.astype(np.uint8)
    label = np.ascontiguousarray(label)
    image = Image.frombytes("P", (label.shape[1], label.shape[0]), label.tobytes())
    image.putpalette(list(PALETTE) if palette is None else palette)
    image.save(path, format="PNG")


class ResultsLayout:
    """Where one run's sequence folders live and which of them are finished.

    Args:
        root: the results folder the metric reads (``<root>/<sequence>/<frame>.png``).
    """

    def __init__(self, root: PathLike) -> None:
        self.root = Path(root)

    def sequence_dir(self, name: str) -> Path:
        """The final folder of a sequence."""
        return self.root / name

    def partial_dir(self, name: str) -> Path:
        """The hidden folder a sequence is written into before it is moved into place."""
        return self.root / PARTIAL_DIR / name

    def is_finished(self, name: str) -> bool:
        """True when the sequence's final folder exists (it only appears complete, see the module doc)."""
        return self.sequence_dir(name).is_dir()

    def remove_partial_root(self) -> None:
        """Remove ``<root>/.partial`` when it is empty (called once every rank is done)."""
        try:
            (self.root / PARTIAL_DIR).rmdir()
        except OSError:
            pass


class SequenceWriter:
    """Writes one sequence's frames in the background and publishes the folder atomically.

    Use as a context manager: leaving the block normally calls :meth:`commit`; an exception calls :meth:`abort`
    (the partial folder is removed and the final folder is untouched). A process killed inside the block leaves
    only ``<root>/.partial/<name>``, which the next writer for that sequence removes.

    Args:
        layout: the run's results layout.
        name: sequence name (the folder name).
        threads: background writer threads (0 writes synchronously).
        max_pending: at most this many frames wait in memory; :meth:`write` blocks beyond it.
        merge: the final folder may hold files this writer must keep (the user's own, in a folder the user let
            a tool write into): frames are written into ``<final>/.partial/`` and moved into the final folder one
            by one on commit, replacing only files of the same names; nothing else there is touched.
    """

    def __init__(self, layout: ResultsLayout, name: str, threads: int = 2, max_pending: int = 8,
                 merge: bool = False) -> None:
        self.layout = layout
        self.name = name
        self.merge = merge
        self.final = layout.sequence_dir(name)
        self.tmp = self.final / PARTIAL_DIR if merge else layout.partial_dir(name)
        self.names: list[str] = []
        if self.tmp.exists():
            log.info("removing the unfinished folder %s of an interrupted run", self.tmp)
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="png") if threads > 0 else None
        self._slots = threading.BoundedSemaphore(max(1, max_pending))
        self._futures: list[Future] = []
        self.written = 0

    def __enter__(self) -> "SequenceWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def _submit(self, fn, *args) -> None:
        if self._pool is None:
            fn(*args)
            return
        self._slots.acquire()
        future = self._pool.submit(fn, *args)
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)

    def write(self, stem: str, label: np.ndarray) -> None:
        """Queue ``<stem>.png`` with the given id map (dataset ids, uint8) for writing."""
        self._submit(save_palette_png, self.tmp / f"{stem}.png", label)
        self.written += 1

    def write_objects(self, stem: str, obj_ids: Sequence[int], label: np.ndarray) -> None:
        """Queue ``<id:03d>/<stem>.png`` for every object: 0/1 palette PNGs of its pixels (SA-V layout)."""
        for obj_id in obj_ids:
            folder = self.tmp / f"{obj_id:03d}"
            folder.mkdir(exist_ok=True)
            self._submit(save_palette_png, folder / f"{stem}.png", (label == obj_id).astype(np.uint8))
        self.written += 1

    def write_result(self, stem: str, result: "FrameOutput", per_object: bool = False) -> None:
        """Queue a predictor's frame: one palette PNG of ids, or with ``per_object`` one PNG per object."""
        if per_object:
            self.write_objects(stem, result.obj_ids, result.label)
        else:
            self.write(stem, result.label)

    def copy(self, stem: str, source: PathLike) -> None:
        """Copy a file (the first frame's annotation) verbatim as ``<stem>.png``."""
        self._submit(shutil.copyfile, source, self.tmp / f"{stem}.png")
        self.written += 1

    def _drain(self) -> None:
        errors = [f.exception() for f in self._futures]
        self._futures = []
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        failed = [e for e in errors if e is not None]
        if failed:
            raise failed[0]

    def commit(self) -> Path:
        """Wait for every queued file, then move the folder into place (replacing an older result).

        With ``merge``, move the files into the final folder instead (see the class doc); :attr:`names` lists
        them.
        """
        self._drain()
        self.names = sorted(p.relative_to(self.tmp).as_posix() for p in self.tmp.rglob("*") if p.is_file())
        if self.merge:
            for name in self.names:
                target = self.final / name
                target.parent.mkdir(exist_ok=True)  # a per-object folder (``write_objects``)
                os.replace(self.tmp / name, target)
            shutil.rmtree(self.tmp)  # only the emptied per-object folders are left in it
            return self.final
        return replace_folder(self.tmp, self.final)

    def abort(self) -> None:
        """Drop everything written so far; the final folder is left as it was."""
        try:
            self._drain()
        except Exception:  # the original error is the one worth reporting
            log.debug("writer error while aborting %s", self.name, exc_info=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        try:  # the hidden parent too, once no other sequence is being written there
            self.tmp.parent.rmdir()
        except OSError:
            pass
