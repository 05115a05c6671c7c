"""The evaluator's ``--plots`` output: memory timelines (PNG + JSON) and J over time per object (PNG).

Files, all in ``<output>/plots``: ``<seq>_memory.json`` (``{"policy": name, "kept_frames": [[...], ...],
"frames": [stem, ...]}``, the frame indices in the long-term memory after every processed frame and the stems of
the processed frames; timelines of several runs can be drawn together with :func:`aot_plus.viz.plot_memory_timeline`),
``<seq>_memory.png`` and, after the metric, ``<seq>_J.json`` (per-object J of each scored frame, with the frame's
processed index) and ``<seq>_J.png``: J over time above the memory timeline, on one x axis (processed frame index),
so a drop in J can be read against what the bank held at that moment.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from aot_plus.io.atomic import write_text
from aot_plus.viz.plots import plot_j_over_time, plot_memory_timeline, plot_sequence_timeline
from evaluation.metrics import tail_start

log = logging.getLogger(__name__)

PLOTS_FOLDER = "plots"


def plots_dir(output: Path) -> Path:
    """Where the plots of a results folder go."""
    return Path(output) / PLOTS_FOLDER


def _read_json(path: Path, keys: Sequence[str]) -> dict:
    try:
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or any(key not in data for key in keys):
            raise KeyError(", ".join(key for key in keys if not isinstance(data, dict) or key not in data))
        return data
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: expected a JSON object with {' and '.join(map(repr, keys))} ({err})") from err


def _write_json(path: Path, data: Any) -> Path:
    write_text(path, json.dumps(data))
    return path


def read_timeline(path: Path) -> tuple[str, list[list[int]]]:
    """The (policy name, kept frames after every frame) of a ``<seq>_memory.json`` file."""
    data = _read_json(path, ("policy", "kept_frames"))
    try:
        return str(data["policy"]), [list(map(int, kept)) for kept in data["kept_frames"]]
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path}: expected 'kept_frames' to be lists of frame indices ({err})") from err


def read_j_series(path: Path) -> dict[str, tuple[list[int], list[float]]]:
    """Object label -> (processed frame index of each scored frame, J there) of a ``<seq>_J.json`` file."""
    data = _read_json(path, ("processed_index", "objects"))
    index = [int(i) for i in data["processed_index"]]
    return {str(label): (index, [float("nan") if v is None else float(v) for v in values])
            for label, values in data["objects"].items()}


def write_memory_timeline(folder: Path, sequence: str, policy: str, timeline: Sequence[Sequence[int]],
                          stems: Optional[Sequence[str]] = None) -> tuple[Path, Path]:
    """Write ``<sequence>_memory.json`` (with the processed frames' ``stems`` when given) and
    ``<sequence>_memory.png`` into ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"policy": policy, "kept_frames": [list(kept) for kept in timeline]}
    if stems is not None:
        record["frames"] = list(stems)
    path = _write_json(folder / f"{sequence}_memory.json", record)
    png = plot_memory_timeline({policy: timeline}, folder / f"{sequence}_memory.png", title=sequence)
    return path, png


def write_j_plots(report: Any, folder: Path) -> list[Path]:
    """Per sequence of an evaluation report: ``<seq>_J.json`` and ``<seq>_J.png``. When the sequence's memory
    timeline (with its frame stems) is in ``folder``, the PNG draws J above the bank on the processed-frame axis;
    otherwise J over the scored frames only."""
    per_sequence: dict[str, dict[str, Any]] = defaultdict(dict)
    frames: dict[str, tuple[str, ...]] = {}
    for obj in report.objects:
        per_sequence[obj.sequence][f"object {obj.object_id}"] = obj.per_frame_j
        frames[obj.sequence] = tuple(obj.frames)
    written = []
    for name, series in per_sequence.items():
        memory = folder / f"{name}_memory.json"
        data = _read_json(memory, ("policy", "kept_frames")) if memory.is_file() else {}
        position = {stem: i for i, stem in enumerate(data.get("frames", []))}
        scored = frames[name]
        if not scored or any(stem not in position for stem in scored):
            written.append(plot_j_over_time(series, folder / f"{name}_J.png", title=name))
            continue
        index = [position[stem] for stem in scored]
        _write_json(folder / f"{name}_J.json", {
            "frames": list(scored), "processed_index": index,
            "objects": {label: [None if np.isnan(v) else float(v) for v in values]
                        for label, values in series.items()}})
        banks = {str(data["policy"]): [list(kept) for kept in data["kept_frames"]]}
        j_series = {label: (index, list(values)) for label, values in series.items()}
        written.append(plot_sequence_timeline(j_series, banks, folder / f"{name}_J.png", title=name,
                                              tail_from=index[tail_start(len(index))]))
    if written:
        log.info("J-over-time plots of %d sequence(s) written to %s", len(written), folder)
    return written
