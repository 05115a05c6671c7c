"""Segment one video with test-time augmentation: the Python API behind ``aot_plus.eval`` and ``aot_plus.predict``.

Per frame (``evaluation.md`` A4): every test-time copy (scale x flip) runs its own engine session with its own
memory; their probabilities, computed at the output size and flipped back, are averaged; the arg-max is the
frame's label, which every session then stores in its memory (resized nearest to its input, mirrored for
mirrored copies). A frame that carries an annotation (objects appearing later, YouTube-VOS) overrides the
prediction where it is non-zero and is added to every session as a new reference.

Object ids follow the reference reader (``data.md`` 5.2): the known ids start as [0] and every annotation appends
the ids it introduces in ascending order (255 included, so void in the first mask is tracked as one more
object); the network sees position j of that list as identity j, and results map j back to the original id.

Example::

    segmenter = VideoSegmenter(model, cfg, torch.device("cpu"))
    for mask in segmenter.segment(frames, first_mask):
        ...  # [H, W] uint8 map of the first mask's ids
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

import numpy as np
import torch

from aot_plus.data.eval_transforms import FrameView, prepare_label, test_time_views
from aot_plus.engine import VideoSession


class ObjectIds:
    """The ids known so far in a video, in order of first appearance, starting with background 0."""

    def __init__(self) -> None:
        self.ids: list[int] = [0]

    @property
    def count(self) -> int:
        """Number of objects known (background excluded)."""
        return len(self.ids) - 1

    def add(self, label: np.ndarray) -> None:
        """Append the ids of ``label`` not seen yet, in ascending order."""
        self.ids.extend(int(v) for v in np.unique(label) if int(v) not in self.ids)

    def squeeze(self, label: np.ndarray) -> np.ndarray:
        """Original ids -> positions in the known list (unknown ids -> 0)."""
        table = np.zeros(256, dtype=np.uint8)
        table[self.ids] = np.arange(len(self.ids), dtype=np.uint8)
        return table[label]

    def restore(self, label: np.ndarray) -> np.ndarray:
        """Positions -> original ids; positions beyond the known list (unused identities) become 0."""
        table = np.zeros(256, dtype=np.uint8)
        table[:len(self.ids)] = self.ids
        return table[label]


@dataclass(frozen=True)
class FrameResult:
    """The result of one frame.

    Attributes:
        index: frame index in the video.
        mask: ``[H, W]`` uint8 map of original ids at the output size.
        seconds: compute time of the frame (propagation, merging, memory update; 0 for frame 0).
        kept_frames: frame indices in the long-term memory of the first session after this frame.
    """

    index: int
    mask: np.ndarray
    seconds: float
    kept_frames: tuple[int, ...] = ()


def _prefetch(items: Iterable[Any], transform: Callable[[Any], Any], depth: int = 2) -> Iterator[Any]:
    """``transform`` applied to ``items`` in a background thread, ``depth`` results ahead of the consumer."""
    done = object()
    results: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                results.put((True, transform(item)))
        except BaseException as err:  # handed to the consumer, which re-raises it
            results.put((False, err))
            return
        results.put((True, done))

    thread = threading.Thread(target=work, name="frame-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, value = results.get()
            if not ok:
                raise value
            if value is done:
                return
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:
                results.get(timeout=0.05)
            except queue.Empty:
                pass


class VideoSegmenter:
    """Segments videos with one model, the memory policy of ``cfg.memory`` and the test-time copies of ``cfg.eval``.

    Args:
        model: a network from :func:`aot_plus.models.build_model` with its weights loaded (put in eval mode here).
        cfg: the experiment config (sections ``model``, ``memory``, ``data`` for the normalisation, ``eval``).
        device: where the networks run.
    """

    def __init__(self, model: torch.nn.Module, cfg: Any, device: torch.device) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.cfg = cfg
        self.sessions: list[VideoSession] = []

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.cfg.eval.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=getattr(torch, self.cfg.eval.amp_dtype))
        return contextlib.nullcontext()

    def _views(self, image: np.ndarray) -> list[FrameView]:
        ev = self.cfg.eval
        image = np.asarray(image, dtype=np.float32)
        views = test_time_views(image, ev.scales, ev.flip, max_long_side=ev.max_long_side,
                                align_corners=self.cfg.model.align_corners, mean=self.cfg.data.mean,
                                std=self.cfg.data.std)
        return [FrameView(v.scale, v.flip, v.image.to(self.device, non_blocking=True)) for v in views]

    def _label_for(self, label: torch.Tensor, view: FrameView) -> torch.Tensor:
        """A ``[H, W]`` label (any device) resized nearest to ``view``'s input and mirrored like it."""
        size = tuple(view.image.shape[-2:])
        label = label.flip(-1) if view.flip else label
        label = label[None, None].float()
        if tuple(label.shape[-2:]) != size:
            label = torch.nn.functional.interpolate(label, size=size, mode="nearest")
        return label.long().to(self.device)

    def run(self, frames: Iterable[np.ndarray], labels: Mapping[int, np.ndarray], num_frames: int,
            output_size: Optional[tuple[int, int]] = None) -> Iterator[FrameResult]:
        """Segment a video frame by frame.

        Args:
            frames: ``[H, W, 3]`` RGB frames (uint8 or float 0..255), in order.
            labels: frame index -> ``[H, W]`` map of original ids; index 0 is required, later ones add objects.
            num_frames: length of the video (the per-sequence long-term gap depends on it).
            output_size: (height, width) of the results; default: the frames' size.

        Yields:
            One :class:`FrameResult` per frame; frame 0's mask is its annotation at the output size.

        Raises:
            ValueError: frame 0 has no label, or a label's size differs from its frame's.
        """
        if 0 not in labels:
            raise ValueError("the first frame needs a mask (labels[0])")
        ids = ObjectIds()
        self.sessions = [VideoSession(self.model, self.cfg.memory, self.cfg.eval.session, num_frames)
                         for _ in self.cfg.eval.augmentations]
        views_of = _prefetch(enumerate(frames), lambda item: (item[0], item[1].shape[:2], self._views(item[1])))
        for index, size, views in views_of:
            out_size = tuple(output_size) if output_size is not None else tuple(size)
            given = labels.get(index)
            if given is not None and tuple(given.shape) != tuple(size):
                raise ValueError(f"frame {index}: mask is {given.shape[1]}x{given.shape[0]} but the frame is "
                                 f"{size[1]}x{size[0]} (width x height)")
            if index == 0:
                yield self._start(views, given, ids, out_size)
                continue
            yield self._step(index, views, given, ids, out_size)

    @torch.inference_mode()
    def _start(self, views: list[FrameView], label: np.ndarray, ids: ObjectIds,
               out_size: tuple[int, int]) -> FrameResult:
        ids.add(label)
        squeezed = torch.from_numpy(ids.squeeze(label))
        with self._autocast():
            for session, view in zip(self.sessions, views):
                session.add_reference(view.image, self._label_for(squeezed, view), 0, range(1, ids.count + 1))
        shown = prepare_label(ids.squeeze(label), out_size)[0, 0].numpy().astype(np.uint8)
        return FrameResult(0, ids.restore(shown), 0.0, tuple(self.sessions[0].kept_frames))

    @torch.inference_mode()
    def _step(self, index: int, views: list[FrameView], given: Optional[np.ndarray], ids: ObjectIds,
              out_size: tuple[int, int]) -> FrameResult:
        # The previous frame ended with a device-to-host copy, so the device is idle here: wall time is exact.
        start = time.perf_counter()
        total: Optional[torch.Tensor] = None
        with self._autocast():
            for session, view in zip(self.sessions, views):
                probs = session.step(view.image, out_size, index).float()
                probs = probs.flip(-1) if view.flip else probs
                total = probs if total is None else total + probs
            label = (total / len(views)).argmax(dim=1)[0]
            if given is None:
                for session, view in zip(self.sessions, views):
                    session.update(self._label_for(label, view))
            else:
                ids.add(given)
                new = prepare_label(ids.squeeze(given), out_size)[0, 0].to(self.device)
                label = torch.where(new > 0, new, label)
                for session, view in zip(self.sessions, views):
                    session.add_reference(view.image, self._label_for(label, view), index,
                                          range(1, ids.count + 1))
        mask = label.to(torch.uint8).cpu().numpy()
        seconds = time.perf_counter() - start
        return FrameResult(index, ids.restore(mask), seconds, tuple(self.sessions[0].kept_frames))

    def segment(self, frames: Iterable[np.ndarray], first_mask: np.ndarray,
                num_frames: Optional[int] = None) -> Iterator[np.ndarray]:
        """Masks of a video given the first frame's mask (ids as in ``first_mask``), frame 0 included.

        Args:
            frames: ``[H, W, 3]`` RGB frames; a list, or any iterable with ``num_frames`` given.
            first_mask: ``[H, W]`` uint8 map of object ids for frame 0 (0 = background).
            num_frames: video length (default ``len(frames)``), used by the per-sequence memory gap.
        """
        if num_frames is None:
            if not hasattr(frames, "__len__"):
                raise ValueError("num_frames is required when frames is not a list")
            num_frames = len(frames)  # type: ignore[arg-type]
        for result in self.run(frames, {0: np.asarray(first_mask, dtype=np.uint8)}, num_frames):
            yield result.mask
