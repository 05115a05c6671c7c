"""Memory-timeline and J-over-time figures written as PNG files.

matplotlib is imported lazily with the non-interactive Agg backend, so the package works without it until a plot
is requested.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import numpy as np

from aot_plus.io.atomic import write_with

PathLike = Union[str, os.PathLike]


def _pyplot():
    try:
        import matplotlib
    except ImportError as err:
        raise RuntimeError("plots need matplotlib: pip install matplotlib") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(plt, fig, out_path: PathLike) -> Path:
    """Lay out, write atomically and close ``fig``."""
    fig.tight_layout()
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_with(out, lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
    return out


def _draw_bank(ax, kept_frames: Sequence[Sequence[int]], name: str) -> None:
    """Which frame indices the bank held after every processed frame (a square per kept frame)."""
    steps = [(t, f) for t, kept in enumerate(kept_frames) for f in kept]
    if steps:
        xs, ys = np.array(steps).T
        ax.scatter(xs, ys, s=6, marker="s", linewidths=0)
    ax.plot([0, len(kept_frames) - 1], [0, len(kept_frames) - 1], lw=0.5, color="grey", ls=":")
    ax.set_ylabel("frame kept")
    ax.set_title(f"{name}: max {max((len(k) for k in kept_frames), default=0)} frames in the bank",
                 fontsize=9, loc="left")


def _draw_j(ax, series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
            tail_from: Optional[float], tail_to: float) -> None:
    """J lines over x; the y range leaves room below 0 so that an all-zero line is not hidden by the axis."""
    for label, (xs, values) in series.items():
        ax.plot(np.asarray(xs, dtype=float), np.asarray(values, dtype=float), lw=1.2, marker=".", ms=3,
                label=str(label), zorder=3)
    if tail_from is not None and tail_to > tail_from:
        ax.axvspan(tail_from, tail_to, color="grey", alpha=0.12, label="J_tr frames")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("J (IoU)")
    ax.legend(fontsize=8, ncol=4, loc="best")


def plot_memory_timeline(timelines: Mapping[str, Sequence[Sequence[int]]], out_path: PathLike,
                         title: str = "") -> Path:
    """Draw which frame indices the long-term bank held after every frame, one panel per policy.

    Args:
        timelines: policy name -> list over processed frames t of the frame indices in the bank after frame t.
        out_path: PNG file to write (parent folders are created; written atomically).
        title: figure title, e.g. the sequence name.

    Returns:
        The written path.
    """
    plt = _pyplot()
    names = list(timelines)
    if not names:
        raise ValueError("plot_memory_timeline needs at least one policy's timeline")
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.0 + 1.8 * len(names)), squeeze=False, sharex=True)
    for ax, name in zip(axes[:, 0], names):
        _draw_bank(ax, timelines[name], name)
    axes[-1, 0].set_xlabel("processed frame")
    if title:
        fig.suptitle(title)
    return _save(plt, fig, out_path)


def plot_j_over_time(j_per_object: Mapping[str, Sequence[float]], out_path: PathLike, title: str = "",
                     tail_fraction: float = 0.25) -> Path:
    """Draw the per-frame Jaccard index of each object (or each policy) over the scored frames.

    Args:
        j_per_object: label (object id, or policy name) -> per-frame J values (NaN where a frame is not scored).
        out_path: PNG file to write (parent folders are created; written atomically).
        title: figure title.
        tail_fraction: shade the last fraction of the frames, the part J_tr scores (0 disables).

    Returns:
        The written path.
    """
    plt = _pyplot()
    if not j_per_object:
        raise ValueError("plot_j_over_time needs at least one series")
    fig, ax = plt.subplots(figsize=(9, 3.2))
    series = {label: (np.arange(len(values)), values) for label, values in j_per_object.items()}
    length = max(len(values) for values in j_per_object.values())
    _draw_j(ax, series, length * (1 - tail_fraction) if tail_fraction > 0 and length else None, length - 1)
    ax.set_xlabel("scored frame")
    if title:
        ax.set_title(title)
    return _save(plt, fig, out_path)


def plot_sequence_timeline(j_series: Mapping[str, tuple[Sequence[int], Sequence[float]]],
                           banks: Mapping[str, Sequence[Sequence[int]]], out_path: PathLike, title: str = "",
                           tail_from: Optional[int] = None) -> Path:
    """J over time above what the memory bank held, on one x axis (processed frame index), so that a drop in J
    can be read against the bank's content at that moment.

    Args:
        j_series: label (object or policy) -> (processed frame indices of the scored frames, J at each).
        banks: policy name -> frame indices in the bank after every processed frame (one panel each).
        out_path: PNG file to write (parent folders are created; written atomically).
        title: figure title, e.g. the sequence name.
        tail_from: first processed frame of the J_tr window (shaded); None: no shading.

    Returns:
        The written path.
    """
    plt = _pyplot()
    if not j_series or not banks:
        raise ValueError("plot_sequence_timeline needs at least one J series and one bank timeline")
    rows = 1 + len(banks)
    fig, axes = plt.subplots(rows, 1, figsize=(9, 1.2 + 1.9 * rows), squeeze=False, sharex=True,
                             gridspec_kw={"height_ratios": [1.4] + [1.0] * len(banks)})
    length = max(len(kept) for kept in banks.values())
    _draw_j(axes[0, 0], j_series, tail_from, length - 1)
    for ax, (name, kept) in zip(axes[1:, 0], banks.items()):
        _draw_bank(ax, kept, name)
    axes[0, 0].set_xlim(-0.5, length - 0.5)
    axes[-1, 0].set_xlabel("processed frame")
    if title:
        fig.suptitle(title)
    return _save(plt, fig, out_path)
