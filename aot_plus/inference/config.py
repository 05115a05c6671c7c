"""Typed configuration of dataset inference and custom-video prediction (the ``eval`` section)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from aot_plus.engine.config import SessionConfig


@dataclass(frozen=True)
class EvalConfig:
    """How videos are segmented at test time and how the results are written and scored.

    The reference defaults reproduce the published VOST evaluation (``docs/benchmarks.md``, VOST settings): one
    scale, no flip, long side capped at 1040 pixels, unused identity channels left unmasked, fp32.

    Attributes:
        flip: also run a horizontally mirrored copy of every scale and average the probabilities.
        scales: test-time scale factors; each scale (and its flipped copy) runs its own session.
        max_long_side: cap on the long image side before scaling (reference ``--max_resolution`` 624 x 800 / 480).
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``; under torchrun each rank uses
            ``cuda:LOCAL_RANK`` when this names CUDA without an index.
        amp: run the networks under CUDA autocast (off in the reference evaluation; ignored on CPU).
        amp_dtype: autocast dtype when ``amp`` is on.
        compile: compile the frame step (encoder, propagation, decoder) with ``torch.compile``; needs
            ``memory.storage: static`` so that every frame has the same shapes and the step compiles once
            (``docs/static-memory.md``). The first frames of the first video pay the compilation.
        compile_mode: ``torch.compile`` mode: ``default``, ``reduce-overhead`` (adds CUDA graphs on CUDA) or
            ``max-autotune``.
        channels_last: run the convolutions in the channels-last memory format (tensor cores on CUDA).
        session: per-video engine settings (identity masking, later references); the defaults leave unused
            identities unmasked as RMem/EMFS do (``docs/identities.md``).
        strict_load: load checkpoints strictly (every key must match).
        checkpoint_entry: dict entry of the checkpoint file holding the weights (e.g. ``ema``); None tries
            ``state_dict``, then ``model``, then the file itself.
        write_first_frame: write frame 0's file (a copy of the first annotation for dataset runs).
        output_layout: ``palette``: one palette PNG of object ids per frame (``<seq>/<frame>.png``, what the
            metrics read); ``per_object``: one folder per object of 0/1 palette PNGs (``<seq>/<id:03d>/<frame>.png``,
            the SA-V layout; no metric reads it).
        skip_finished: skip sequences whose result folder already exists (resume).
        metric: score the results after inference: ``auto`` (VOST J/J_tr for VOST, J&F for DAVIS and Long
            Videos, LVOS J&F for LVOS, nothing for YouTube-VOS, whose validation labels are not public), ``vost``,
            ``jf``, ``lvos`` or ``none``.
        metric_workers: processes scoring sequences in the metric (0 = the CPU count, at most 8).
        writer_threads: background threads writing PNG files while the next frame is computed.
        read_ahead_frames: frames read and prepared (resized, normalised, copied to the device) in a background
            thread ahead of the frame being segmented; the only frames held besides the current one.
        num_threads: torch CPU threads per process (None keeps torch's default).
        dist_timeout_s: how long ranks wait for each other at the final barrier (long videos take long).
        seed: seed of Python, NumPy and torch at start-up (inference itself has no randomness).
        overlay_alpha: opacity of the object colours in predict's overlay video.
        overlay_fps: frame rate of the overlay video when the input is a folder of frames.
        empty_mask_warn_frames: predict warns once per object when the model predicts no pixel of it for this
            many consecutive frames (0: never).
        plots: write ``<output>/plots/<seq>_memory.{png,json}`` (the frame indices in the long-term memory after
            every frame) and, after the metric, ``<seq>_J.png`` (J over time per object).
    """

    flip: bool = False
    scales: tuple[float, ...] = (1.0,)
    max_long_side: Optional[int] = 1040
    device: str = "auto"
    amp: bool = False
    amp_dtype: Literal["bfloat16", "float16"] = "bfloat16"
    compile: bool = False
    compile_mode: Literal["default", "reduce-overhead", "max-autotune"] = "default"
    channels_last: bool = False
    session: SessionConfig = field(default_factory=SessionConfig)
    strict_load: bool = True
    checkpoint_entry: Optional[str] = None
    write_first_frame: bool = True
    output_layout: Literal["palette", "per_object"] = "palette"
    skip_finished: bool = True
    metric: Literal["auto", "vost", "jf", "lvos", "none"] = "auto"
    metric_workers: int = 0
    writer_threads: int = 2
    read_ahead_frames: int = 2
    num_threads: Optional[int] = None
    dist_timeout_s: int = 7 * 24 * 3600
    seed: int = 0
    overlay_alpha: float = 0.5
    overlay_fps: float = 10.0
    empty_mask_warn_frames: int = 10
    plots: bool = False

    def __post_init__(self) -> None:
        if not self.scales:
            raise ValueError("eval.scales must list at least one scale factor")
        if any(s <= 0 for s in self.scales):
            raise ValueError(f"eval.scales must be positive, got {list(self.scales)}")
        if self.max_long_side is not None and self.max_long_side < 17:
            raise ValueError(f"eval.max_long_side must be at least 17 pixels, got {self.max_long_side}")
        if not 0.0 <= self.overlay_alpha <= 1.0:
            raise ValueError(f"eval.overlay_alpha must lie in [0, 1], got {self.overlay_alpha}")
        if self.empty_mask_warn_frames < 0:
            raise ValueError(f"eval.empty_mask_warn_frames must be >= 0, got {self.empty_mask_warn_frames}")
        if self.read_ahead_frames < 1:
            raise ValueError(f"eval.read_ahead_frames must be >= 1, got {self.read_ahead_frames}")
        if self.writer_threads < 0 or self.metric_workers < 0:
            raise ValueError("eval.writer_threads and eval.metric_workers must be >= 0")

    @property
    def augmentations(self) -> list[tuple[float, bool]]:
        """The test-time copies in the reference order: [(s1, False), (s1, True), (s2, False), ...]."""
        return [(scale, flip) for scale in self.scales for flip in ((False, True) if self.flip else (False,))]
