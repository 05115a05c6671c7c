"""Memory-timeline and J-over-time figures written as PNG files.

matplotlib is imported lazily with the non-interactive Agg backend, so the package works without it until a plot
is requested.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence, Union

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
        steps = [(t, f) for t, kept in enumerate(timelines[name]) for f in kept]
        if steps:
            xs, ys = np.array(steps).T
            ax.scatter(xs, ys, s=6, marker="s", linewidths=0)
        ax.plot([0, len(timelines[name]) - 1], [0, len(timelines[name]) - 1], lw=0.5, color="grey", ls=":")
        ax.set_ylabel("frame kept")
        ax.set_title(f"{name}: max {max((len(k) for k in timelines[name]), default=0)} frames in the bank",
                     fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("processed frame")
    if title:
        fig.suptitle(title)
    return _save(plt, fig, out_path)


def plot_j_over_time(j_per_object: Mapping[str, Sequence[float]], out_path: PathLike, title: str = "",
                     tail_fraction: float = 0.25) -> Path:
    """Draw the per-frame Jaccard index of each object (or each policy) over the video.

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
    length = 0
    for label, values in j_per_object.items():
        values = np.asarray(values, dtype=float)
        length = max(length, len(values))
        ax.plot(np.arange(len(values)), values, lw=1.2, label=str(label))
    if tail_fraction > 0 and length:
        ax.axvspan(length * (1 - tail_fraction), length - 1, color="grey", alpha=0.12, label="J_tr frames")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("frame")
    ax.set_ylabel("J (IoU)")
    ax.legend(fontsize=8, ncol=4, loc="lower left")
    if title:
        ax.set_title(title)
    return _save(plt, fig, out_path)
