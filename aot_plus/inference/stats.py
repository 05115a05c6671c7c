"""Speed and peak-memory bookkeeping for inference runs.

Peak memory is the resident set size of the process on CPU (``VmHWM``, reset per sequence where the kernel
allows it) and ``torch.cuda.max_memory_allocated`` on CUDA (reset per sequence).
"""
from __future__ import annotations

import json
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import torch

from aot_plus.io.atomic import write_text

GIB = float(1 << 30)


class PeakMemory:
    """Measures the peak memory of one device between :meth:`reset` and :meth:`peak_bytes`.

    Args:
        device: the device the networks run on.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.kind = "CUDA max allocated" if device.type == "cuda" else "peak RSS"

    def reset(self) -> None:
        """Start a new measurement window (best effort on CPU: needs a writable ``/proc/self/clear_refs``)."""
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            return
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass

    def peak_bytes(self) -> int:
        """Peak bytes since the last reset (on CPU without clear_refs: since the process started)."""
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(rss if sys.platform == "darwin" else rss * 1024)


@dataclass(frozen=True)
class SequenceStats:
    """Timing of one sequence: ``frames`` propagated frames (frame 0 excluded) took ``seconds`` of compute."""

    name: str
    frames: int
    seconds: float
    peak_bytes: int

    @property
    def fps(self) -> float:
        """Propagated frames per second (0 when nothing was timed)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class RunStats:
    """Totals over sequences (possibly gathered from several ranks)."""

    sequences: int
    frames: int
    seconds: float
    mean_frame_time_sum: float
    peak_bytes: int

    @classmethod
    def of(cls, items: Iterable[SequenceStats]) -> "RunStats":
        """Aggregate per-sequence statistics."""
        items = list(items)
        return cls(sequences=len(items), frames=sum(s.frames for s in items),
                   seconds=sum(s.seconds for s in items),
                   mean_frame_time_sum=sum(s.seconds / s.frames for s in items if s.frames > 0),
                   peak_bytes=max((s.peak_bytes for s in items), default=0))

    @classmethod
    def combine(cls, parts: Iterable["RunStats"]) -> "RunStats":
        """Combine the totals of several ranks (peak = the maximum over ranks)."""
        parts = list(parts)
        return cls(sequences=sum(p.sequences for p in parts), frames=sum(p.frames for p in parts),
                   seconds=sum(p.seconds for p in parts),
                   mean_frame_time_sum=sum(p.mean_frame_time_sum for p in parts),
                   peak_bytes=max((p.peak_bytes for p in parts), default=0))

    @property
    def all_frame_fps(self) -> float:
        """Total propagated frames / total compute time ("All-Frame FPS" of the reference)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def all_seq_fps(self) -> float:
        """1 / mean over sequences of the mean frame time ("All-Seq FPS" of the reference)."""
        timed = self.mean_frame_time_sum / self.sequences if self.sequences else 0.0
        return 1.0 / timed if timed > 0 else 0.0


def format_sequence(stats: SequenceStats, position: int, count: int, memory_kind: str) -> str:
    """One log line per finished sequence."""
    return (f"[{position}/{count}] {stats.name}: {stats.frames} frames, {stats.fps:.2f} frames/s, "
            f"{memory_kind} {stats.peak_bytes / GIB:.2f} GiB")


def format_run(stats: RunStats, memory_kind: str) -> str:
    """The summary line of a run."""
    return (f"{stats.sequences} sequences, {stats.frames} frames: all-frame {stats.all_frame_fps:.2f} frames/s, "
            f"all-sequence {stats.all_seq_fps:.2f} frames/s, {memory_kind} {stats.peak_bytes / GIB:.2f} GiB")


RUN_STATS_FILE = "run_stats.json"
"""Speed and memory of an evaluation run, written next to its ``config.yaml``."""


def write_run_stats(folder: Path, stats: RunStats, memory_kind: str) -> Path:
    """Write ``<folder>/run_stats.json`` (atomically): frames, seconds, ms per frame, peak memory and its kind."""
    data = {"sequences": stats.sequences, "frames": stats.frames, "seconds": stats.seconds,
            "ms_per_frame": 1000.0 * stats.seconds / stats.frames if stats.frames else None,
            "all_frame_fps": stats.all_frame_fps, "all_seq_fps": stats.all_seq_fps,
            "peak_bytes": stats.peak_bytes, "memory_kind": memory_kind}
    return write_text(Path(folder) / RUN_STATS_FILE, json.dumps(data, indent=1))


def read_run_stats(folder: Path) -> Optional[dict]:
    """The ``run_stats.json`` of a results folder, or None when there is none."""
    path = Path(folder) / RUN_STATS_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
