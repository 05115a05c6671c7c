"""The evaluator's ``--plots`` output: memory timelines (PNG + JSON) and J over time per object (PNG).

Files, all in ``<output>/plots``: ``<seq>_memory.json`` (``{"policy": name, "kept_frames": [[...], ...]}``, the
frame indices in the long-term memory after every frame; timelines of several runs can be drawn together with
:func:`aot_plus.viz.plot_memory_timeline`), ``<seq>_memory.png`` and, after the metric, ``<seq>_J.png``.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from aot_plus.io.atomic import write_text
from aot_plus.viz.plots import plot_j_over_time, plot_memory_timeline

log = logging.getLogger(__name__)

PLOTS_FOLDER = "plots"


def plots_dir(output: Path) -> Path:
    """Where the plots of a results folder go."""
    return Path(output) / PLOTS_FOLDER


def read_timeline(path: Path) -> tuple[str, list[list[int]]]:
    """The (policy name, kept frames after every frame) of a ``<seq>_memory.json`` file."""
    try:
        data = json.loads(Path(path).read_text())
        return str(data["policy"]), [list(map(int, kept)) for kept in data["kept_frames"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: expected a JSON object with 'policy' and 'kept_frames' lists ({err})") from err


def write_memory_timeline(folder: Path, sequence: str, policy: str,
                          timeline: Sequence[Sequence[int]]) -> tuple[Path, Path]:
    """Write ``<sequence>_memory.json`` and ``<sequence>_memory.png`` into ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sequence}_memory.json"
    write_text(path, json.dumps({"policy": policy, "kept_frames": [list(kept) for kept in timeline]}))
    png = plot_memory_timeline({policy: timeline}, folder / f"{sequence}_memory.png", title=sequence)
    return path, png


def write_j_plots(report: Any, folder: Path) -> list[Path]:
    """One ``<seq>_J.png`` per sequence of an evaluation report (per-object J over the scored frames)."""
    per_sequence: dict[str, dict[str, Any]] = defaultdict(dict)
    for obj in report.objects:
        per_sequence[obj.sequence][f"object {obj.object_id}"] = obj.per_frame_j
    written = [plot_j_over_time(series, folder / f"{name}_J.png", title=name) for name, series in per_sequence.items()]
    if written:
        log.info("J-over-time plots of %d sequence(s) written to %s", len(written), folder)
    return written
