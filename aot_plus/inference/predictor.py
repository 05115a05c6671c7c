"""A per-video predictor: masks in on any frame, frames streamed through, masks out frame by frame.

The predictor holds one video at a time (``docs/video-predictor.md``)::

    predictor = VideoPredictor.from_config("configs/vost/r50_deaotl_rmem.yaml", "model.pth")
    predictor.init_state("frames/")                      # a folder, a video file, or any iterator of RGB arrays
    predictor.add_new_mask(0, obj_id=1, mask=first_mask)  # [H, W] bool, one object at a time, any frame
    for frame_idx, obj_ids, masks, scores in predictor.propagate_in_video():
        ...                                              # masks: [N, H, W] bool, scores: [N] float32

Per frame (the reference evaluator's test-time augmentation): every test-time copy (scale x flip, in the order of
:attr:`~aot_plus.inference.config.EvalConfig.augmentations`) runs its own engine session with its own memory;
their probabilities, computed at the output size and flipped back, are averaged; the arg-max is the frame's
label, which every session then stores in its memory. A frame that carries masks overrides the prediction where
they are set and is added to every session as a new reference. Object ids map to network identities through
:class:`~aot_plus.data.object_ids.ObjectIds` (order of first annotation, ascending ids within a frame).

Frames are read and prepared ahead in a background thread (``eval.read_ahead_frames``); outputs are yielded and
never kept, so memory stays flat with video length for bounded memory policies.
"""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import numpy as np
import torch

from aot_plus.data.eval_transforms import FrameView, prepare_label, test_time_views
from aot_plus.data.object_ids import MAX_OBJECT_ID, ObjectIds
from aot_plus.engine import VideoSession
from aot_plus.engine.frame_step import FrameStep
from aot_plus.inference.frame_output import FrameOutput, object_scores
from aot_plus.inference.frame_source import FrameSource, ReadAhead
from aot_plus.memory import resolve_gap

log = logging.getLogger(__name__)


class VideoPredictor:
    """Segments one video at a time with a network, the memory of ``cfg.memory`` and the TTA of ``cfg.eval``.

    Args:
        model: a network from :func:`aot_plus.models.build_model` with its weights loaded (put in eval mode here).
        cfg: the experiment config (sections ``model``, ``memory``, ``data`` for the normalisation, ``eval``).
        device: where the networks run.
    """

    def __init__(self, model: torch.nn.Module, cfg: Any, device: Union[str, torch.device]) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.cfg = cfg
        if cfg.eval.compile and cfg.memory.storage != "static":
            raise ValueError("eval.compile needs memory.storage: static (a bounded memory with fixed shapes), got "
                             f"memory.storage: {cfg.memory.storage}")
        # One frame step for every session and video: compiled graphs are reused across them.
        self.frame_step = FrameStep(self.model, cfg.eval.compile, cfg.eval.channels_last, cfg.eval.compile_mode)
        self._source: Optional[FrameSource] = None
        self._reader: Optional[ReadAhead] = None
        self._output_size: Optional[tuple[int, int]] = None
        self._gap_length: Optional[int] = None
        self._clear_tracking()

    @classmethod
    def from_config(cls, config: Union[str, Path, Any], checkpoint: Optional[Union[str, Path]] = None, *,
                    overrides: Sequence[str] = (), device: Optional[Union[str, torch.device]] = None
                    ) -> "VideoPredictor":
        """Build the network of a config, load its weights and pick the device (``eval.device`` by default).

        Args:
            config: an experiment config file (with ``overrides``) or a loaded config.
            checkpoint: the weights file; None keeps random weights (debugging only).
            overrides: ``key=value`` overrides when ``config`` is a file.
            device: overrides ``eval.device``.
        """
        from aot_plus.config import load_config
        from aot_plus.inference.distributed import DistInfo, select_device
        from aot_plus.inference.model_loading import load_model

        cfg = load_config(config, overrides) if isinstance(config, (str, Path)) else config
        chosen = select_device(cfg.eval.device if device is None else str(device), DistInfo())
        return cls(load_model(cfg, checkpoint), cfg, chosen)

    # ------------------------------------------------------------------ state
    def _clear_tracking(self) -> None:
        self._ids = ObjectIds()
        self._removed: set[int] = set()
        self._pending: dict[int, dict[int, np.ndarray]] = {}
        self._sessions: list[VideoSession] = []
        self._next_frame = 0
        self.current_image: Optional[np.ndarray] = None
        self.last_frame_seconds = 0.0

    def init_state(self, source: Union[str, Path, Iterable[np.ndarray], FrameSource], *,
                   num_frames: Optional[int] = None,
                   output_size: Optional[tuple[int, int]] = None) -> None:
        """Start a new video: forget the previous one and open ``source`` (nothing is propagated yet).

        Args:
            source: a folder of frames, a video file, or an iterable of ``[H, W, 3]`` RGB arrays (uint8 or float
                0..255), e.g. a camera generator (or a :class:`FrameSource` made from one of them).
            num_frames: the length of an iterator source, when known (the per-sequence gap rule needs it).
            output_size: (height, width) of the masks; default: the frames' size.

        Raises:
            ValueError: the config's gap rule needs the video length and the source cannot tell it.
        """
        self.close()
        self._source = source if isinstance(source, FrameSource) else FrameSource(source, num_frames)
        self._output_size = tuple(output_size) if output_size is not None else None
        self._gap_length = self._length_for_gap(self._source)
        self._clear_tracking()
        self._reader = ReadAhead(self._source.open(), self._prepare, self.cfg.eval.read_ahead_frames)

    def _length_for_gap(self, source: FrameSource) -> Optional[int]:
        gap = self.cfg.memory.long_term_gap
        if gap.mode == "fixed":
            return None
        if source.length is None and not source.is_video_file:
            raise ValueError("memory.long_term_gap.mode=per_sequence derives the gap from the video length, which "
                             "this frame iterator does not have: pass init_state(..., num_frames=N), or choose a "
                             "fixed gap for streams (e.g. memory.long_term_gap=5)")
        return source.count()

    def reset_state(self) -> None:
        """Forget every object, mask and memory of the current video, keeping the video.

        A folder, a video file or a list starts again from frame 0; an iterator (a stream) goes on with its next
        unread frame, whose index keeps counting.
        """
        self._require_state()
        if self._source.rewindable:
            self._reader.close()
            self._reader = ReadAhead(self._source.open(), self._prepare, self.cfg.eval.read_ahead_frames)
            self._clear_tracking()
        else:
            next_frame = self._next_frame
            self._clear_tracking()
            self._next_frame = next_frame

    def close(self) -> None:
        """Stop reading the current video (also done by :meth:`init_state`)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> "VideoPredictor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _require_state(self) -> None:
        if self._source is None or self._reader is None:
            raise RuntimeError("call init_state(source) first")

    # ------------------------------------------------------------------ what the user tells
    def add_new_mask(self, frame_idx: int, obj_id: int, mask: np.ndarray) -> None:
        """Give the mask of one object on one frame (a frame not propagated yet).

        The object is tracked from that frame on; a known object gets a new reference frame (both enter the
        memory). Where masks of one frame overlap, the one added last wins.

        Args:
            frame_idx: the frame's index (0 = first frame of the source).
            obj_id: the object's id, 1..255 (the value written in palette PNGs).
            mask: ``[H, W]`` boolean (or 0/1) array at the frames' size.

        Raises:
            ValueError: an id outside 1..255, a frame already propagated or beyond the video, a mask not 2-D.
        """
        self._require_state()
        obj_id, frame_idx = int(obj_id), int(frame_idx)
        if not 0 < obj_id <= MAX_OBJECT_ID:
            raise ValueError(f"obj_id must lie in 1..{MAX_OBJECT_ID}, got {obj_id}")
        if frame_idx < self._next_frame:
            raise ValueError(f"frame {frame_idx} was propagated already (next frame: {self._next_frame}); masks "
                             "can only be added to frames still to come")
        length = self._source.length
        if length is not None and frame_idx >= length:
            raise ValueError(f"frame {frame_idx} is beyond the video ({length} frames)")
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"the mask of object {obj_id} on frame {frame_idx} must be [H, W], got {mask.shape}")
        self._pending.setdefault(frame_idx, {}).pop(obj_id, None)
        self._pending[frame_idx][obj_id] = mask.astype(bool)

    def add_label_map(self, frame_idx: int, label: np.ndarray) -> list[int]:
        """:meth:`add_new_mask` for every non-zero id of an ``[H, W]`` id map (a palette PNG); returns the ids."""
        label = np.asarray(label)
        obj_ids = [int(v) for v in np.unique(label) if v != 0]
        for obj_id in obj_ids:
            self.add_new_mask(frame_idx, obj_id, label == obj_id)
        return obj_ids

    def remove_object(self, obj_id: int) -> None:
        """Stop tracking an object: no more masks from the next frame on, and its masks still to come are dropped.

        Its pixels go to the next most likely object (or background); the memory written from then on no longer
        holds it. Adding a mask for it later tracks it again.

        Raises:
            ValueError: the object was never given a mask.
        """
        self._require_state()
        obj_id = int(obj_id)
        if obj_id not in self._ids and not any(obj_id in masks for masks in self._pending.values()):
            raise ValueError(f"object {obj_id} is not tracked (objects: {list(self.obj_ids)})")
        for masks in self._pending.values():
            masks.pop(obj_id, None)
        self._pending = {index: masks for index, masks in self._pending.items() if masks}
        if obj_id in self._ids:
            self._removed.add(obj_id)

    # ------------------------------------------------------------------ what the user reads
    @property
    def obj_ids(self) -> tuple[int, ...]:
        """The objects tracked now, in identity order."""
        return tuple(i for i in self._ids.ids[1:] if i not in self._removed)

    @property
    def num_frames(self) -> Optional[int]:
        """The video's exact length when known."""
        return self._source.length if self._source is not None else None

    @property
    def num_frames_hint(self) -> Optional[int]:
        """The exact length, or a video file's container estimate (progress bars)."""
        return self._source.length_hint if self._source is not None else None

    @property
    def fps(self) -> Optional[float]:
        """A video file's frame rate (None otherwise)."""
        return self._source.fps if self._source is not None else None

    def frame_name(self, frame_idx: int) -> str:
        """The name of a frame: its file stem for a folder of frames, else the zero-padded index."""
        self._require_state()
        return self._source.frame_name(frame_idx)

    @property
    def kept_frames(self) -> tuple[int, ...]:
        """Frame indices in the long-term memory of the first test-time copy, in bank order."""
        return tuple(self._sessions[0].kept_frames) if self._sessions else ()

    @property
    def sessions(self) -> list[VideoSession]:
        """The engine session of every test-time copy (empty before the first mask is reached)."""
        return list(self._sessions)

    @property
    def frames_held(self) -> int:
        """Frames the predictor holds: read ahead and waiting, plus the last one yielded (``current_image``)."""
        read_ahead = self._reader.held if self._reader is not None else 0
        return read_ahead + (self.current_image is not None)

    # ------------------------------------------------------------------ propagation
    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.cfg.eval.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=getattr(torch, self.cfg.eval.amp_dtype))
        return contextlib.nullcontext()

    def _prepare(self, image: np.ndarray) -> list[FrameView]:
        """The test-time views of a raw frame, on the device (runs in the read-ahead thread)."""
        ev = self.cfg.eval
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"frames must be [H, W, 3] RGB arrays, got shape {image.shape}")
        views = test_time_views(image.astype(np.float32, copy=False), ev.augmentations,
                                max_long_side=ev.max_long_side, align_corners=self.cfg.model.align_corners,
                                mean=self.cfg.data.mean, std=self.cfg.data.std)
        return [FrameView(v.scale, v.flip, v.image.to(self.device, non_blocking=True)) for v in views]

    def _label_for(self, label: torch.Tensor, view: FrameView) -> torch.Tensor:
        """A ``[H, W]`` label (any device) resized nearest to ``view``'s input and mirrored like it."""
        size = tuple(view.image.shape[-2:])
        label = label.flip(-1) if view.flip else label
        label = label[None, None].float()
        if tuple(label.shape[-2:]) != size:
            label = torch.nn.functional.interpolate(label, size=size, mode="nearest")
        return label.long().to(self.device)

    def propagate_in_video(self) -> Iterator[FrameOutput]:
        """Segment the video frame by frame from the first frame with a mask, yielding each frame's result.

        Frames before the first mask are read and skipped. Stopping the loop early keeps the state: a later call
        goes on with the next frame. Masks may be added (for frames to come) and objects removed between two
        frames.

        Yields:
            :class:`FrameOutput` ``(frame_idx, obj_ids, masks, scores)``; unpacks as a 4-tuple.

        Raises:
            ValueError: no mask was added, or a mask's size differs from its frame's.
        """
        self._require_state()
        if not self._sessions and not self._pending:
            raise ValueError("add a mask (add_new_mask) before propagating")
        while True:
            entry = self._reader.get()
            if entry is None:
                break
            index, image, views = entry
            self._next_frame = index + 1
            given = self._pending.pop(index, None)
            if not self._sessions and given is None:
                log.debug("frame %d comes before the first mask: skipped", index)
                continue
            output = self._segment(index, np.asarray(image), views, given)
            self.current_image = image
            yield output
        if self._pending:
            log.warning("masks for frames %s were ignored: the video ended at frame %d", sorted(self._pending),
                        self._next_frame - 1)
            self._pending = {}

    def _given_label(self, index: int, size: tuple[int, int], given: dict[int, np.ndarray]) -> np.ndarray:
        """The masks of one frame as one ``[H, W]`` uint8 map of identities (new objects registered first)."""
        self._ids.add_ids(given)
        self._removed.difference_update(given)
        label = np.zeros(size, dtype=np.uint8)
        for obj_id, mask in given.items():
            if mask.shape != size:
                raise ValueError(f"frame {index}: the mask of object {obj_id} is {mask.shape[1]}x{mask.shape[0]} "
                                 f"but the frame is {size[1]}x{size[0]} (width x height)")
            label[mask] = self._ids.identity(obj_id)
        return label

    @torch.inference_mode()
    def _segment(self, index: int, image: np.ndarray, views: list[FrameView],
                 given: Optional[dict[int, np.ndarray]]) -> FrameOutput:
        size = tuple(image.shape[:2])
        out_size = self._output_size or size
        given_label = self._given_label(index, size, given) if given is not None else None
        references = range(1, self._ids.count + 1)
        if not self._sessions:
            return self._start(index, views, given_label, out_size, references)
        # The previous frame ended with a device-to-host copy, so the device is idle here: wall time is exact.
        start = time.perf_counter()
        with self._autocast():
            total: Optional[torch.Tensor] = None
            for session, view in zip(self._sessions, views, strict=True):
                probs = session.step(view.image, out_size, index).float()
                probs = probs.flip(-1) if view.flip else probs
                total = probs if total is None else total + probs
            probs = total / len(views)
            if self._removed:
                probs[:, [self._ids.identity(i) for i in self._removed]] = 0.0
            label = probs.argmax(dim=1)[0]
            if given_label is None:
                for session, view in zip(self._sessions, views, strict=True):
                    session.update(self._label_for(label, view))
            else:
                new = prepare_label(given_label, out_size)[0, 0].to(self.device)
                label = torch.where(new > 0, new, label)
                for session, view in zip(self._sessions, views, strict=True):
                    session.add_reference(view.image, self._label_for(label, view), index, references)
        output = self._output(index, label, object_scores(probs, label, self._ids.count), given)
        self.last_frame_seconds = time.perf_counter() - start
        return output

    def _start(self, index: int, views: list[FrameView], given_label: np.ndarray, out_size: tuple[int, int],
               references: range) -> FrameOutput:
        """The first frame with masks: one session per test-time copy, each starting from these masks."""
        self._sessions = [VideoSession(self.model, self.cfg.memory, self.cfg.eval.session, self._gap_length,
                                       frame_step=self.frame_step) for _ in self.cfg.eval.augmentations]
        squeezed = torch.from_numpy(given_label)
        with self._autocast():
            for session, view in zip(self._sessions, views, strict=True):
                session.add_reference(view.image, self._label_for(squeezed, view), index, references)
        label = prepare_label(given_label, out_size)[0, 0]
        self.last_frame_seconds = 0.0
        return self._output(index, label, torch.ones(self._ids.count), None)

    def _output(self, index: int, label: torch.Tensor, scores: torch.Tensor,
                given: Optional[dict[int, np.ndarray]]) -> FrameOutput:
        # One synchronisation per frame: the scores' copy is queued first, the label's copy waits for both.
        scores_host = scores.float().to("cpu", non_blocking=True)
        label_np = label.to(torch.uint8).cpu().numpy()
        scores_np = scores_host.numpy().copy()
        if given:
            scores_np[[self._ids.identity(i) - 1 for i in given]] = 1.0
        active = self.obj_ids
        keep = [self._ids.identity(i) - 1 for i in active]
        return FrameOutput(index, active, self._ids.restore(label_np), scores_np[keep].astype(np.float32))

    @property
    def gap(self) -> int:
        """The long-term gap in use (from the config and, for the per-sequence rule, the video length)."""
        return resolve_gap(self.cfg.memory, self._gap_length)
