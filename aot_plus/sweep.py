"""Ablation sweeps: one evaluation per point of a grid of config overrides, then one CSV, table and figure.

Usage::

    python -m aot_plus.sweep --config CONFIG --dataset vost --split val --ckpt PATH --output DIR \\
        --axis memory=fifo,rmem,random --axis memory.max_recent_frames=3,5,8,12,20 [key=value ...]

Every point (one value per ``--axis``, on top of the base config and its ``key=value`` overrides) is evaluated by
the dataset runner of ``python -m aot_plus.eval`` into ``DIR/points/<point>/``. A finished point leaves
``point.json``: its overrides, the resolved config, the checkpoint's identity (path, size, SHA-256), the dataset,
and its J, J_tr, peak memory and frames/s. A rerun skips a point only when that record's settings (what shapes
the masks, the checkpoint and the data) equal the current ones; a record made with other settings stops the
sweep with one line naming the point (use a new ``--output``). Under ``torchrun --nproc_per_node N`` rank ``r``
takes the points ``r, r + N, ...`` (each evaluated by that process alone, on ``cuda:LOCAL_RANK`` on GPUs).
Whichever rank finishes last leaves the complete ``DIR/sweep.csv``, ``DIR/sweep.md`` (rows = points, columns =
J_tr, J, peak memory, frames/s, as in the RMem paper's ablation tables) and ``DIR/sweep.png`` (J_tr and J
against the numeric axis, one line per value of the other axes). See ``docs/memory-ablations.md``.
"""
from __future__ import annotations

import argparse
import csv
import fcntl
import hashlib
import io
import itertools
import json
import logging
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from aot_plus.config import ConfigError, load_config, to_dict
from aot_plus.inference.cli_args import (USER_ERRORS, add_common_arguments, add_dataset_arguments, check_checkpoint,
                                        parse, run_ranked_cli, setup_rank_logging)
from aot_plus.inference.distributed import DistInfo
from aot_plus.inference.results_folder import results_key
from aot_plus.inference.runner import (DATASETS, EvalJob, dataset_root,
                                       evaluate_dataset)
from aot_plus.inference.stats import GIB, read_run_stats
from aot_plus.io.atomic import atomic_dir, write_text
from aot_plus.io.ownership import claim_folder, key_differences, read_manifest

log = logging.getLogger("aot_plus.sweep")

POINT_FILE = "point.json"
PENDING_FILE = "pending.json"
METRICS = (("J_tr", "J_last-Mean"), ("J", "J-Mean"))


@dataclass(frozen=True)
class Axis:
    """One sweep dimension: a config key (or a group such as ``memory``) and the values it takes."""

    key: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> "Axis":
        """``key=v1,v2,...`` -> Axis; a ValueError names what is wrong."""
        key, sep, values = text.partition("=")
        items = tuple(v.strip() for v in values.split(",")) if sep else ()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*", key) or not items or "" in items:
            raise ValueError(f"--axis {text!r}: expected key=value1,value2,... (e.g. memory=fifo,rmem)")
        if len(set(items)) != len(items):
            raise ValueError(f"--axis {text!r}: a value is listed twice")
        return cls(key, items)


@dataclass(frozen=True)
class Point:
    """One grid point: an override per axis, in axis order."""

    overrides: tuple[str, ...]

    @property
    def name(self) -> str:
        """Folder name: the overrides joined by ``__``, characters other than ``[A-Za-z0-9._=-]`` as ``_``."""
        return re.sub(r"[^A-Za-z0-9._=-]", "_", "__".join(self.overrides))

    def value(self, key: str) -> str:
        """This point's value of the axis ``key``."""
        for override in self.overrides:
            name, _, value = override.partition("=")
            if name == key:
                return value
        raise KeyError(key)


def grid(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, the last axis varying fastest."""
    keys = [axis.key for axis in axes]
    if len(set(keys)) != len(keys):
        raise ValueError(f"an axis key is given twice: {keys}")
    points = [Point(tuple(f"{k}={v}" for k, v in zip(keys, values)))
              for values in itertools.product(*(axis.values for axis in axes))]
    names = [point.name for point in points]
    if len(set(names)) != len(names):
        raise ValueError(f"two points share a folder name once special characters become '_': {sorted(names)}")
    return points


def checkpoint_identity(path: Optional[Path]) -> dict[str, Any]:
    """What identifies the weights: resolved path, size and SHA-256 (None for random weights)."""
    if path is None:
        return {"path": None, "size": None, "sha256": None}
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path.resolve()), "size": path.stat().st_size, "sha256": digest.hexdigest()}


def point_settings(cfg: Any, job: EvalJob, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The settings a finished point must share with the current run to be reused."""
    root = dataset_root(cfg, job.dataset).resolve()
    return {"results": results_key(cfg, job.checkpoint, job.dataset, root, job.split),
            "checkpoint_sha256": checkpoint["sha256"], "sequences": list(job.sequences)}


def read_json(path: Path) -> Optional[dict]:
    """A JSON object from ``path``, None if it does not exist; a ValueError naming the file if unreadable."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err}); delete it to recompute this point") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def point_status(folder: Path, settings: dict) -> str:
    """``done`` (a matching record), ``partial`` (a matching interrupted run) or ``new``; ValueError on a mismatch."""
    for filename, state in ((POINT_FILE, "done"), (PENDING_FILE, "partial")):
        record = read_json(folder / filename)
        if record is None:
            continue
        changed = key_differences(record.get("settings", {}), settings)
        if changed:
            raise ValueError(f"{folder / filename}: point computed with other settings ({'; '.join(changed)}); "
                             "use a new --output, or delete this point folder to recompute it")
        return state
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{folder}: exists without {POINT_FILE} or {PENDING_FILE}, so it was not written by a "
                         "sweep; remove it or choose a new --output")
    return "new"


def cfg_of(base: argparse.Namespace, point: Point) -> Any:
    """The resolved config of one point."""
    return load_config(base.config, [*base.overrides, *point.overrides])


def point_job(base: argparse.Namespace, point: Point, folder: Path, checkpoint: Optional[Path],
              identity: dict) -> tuple[Any, EvalJob, dict]:
    """The resolved config, the evaluation job and the settings record of one point."""
    cfg = cfg_of(base, point)
    job = EvalJob(base.dataset, base.split, folder / "results", checkpoint, tuple(base.sequences))
    return cfg, job, point_settings(cfg, job, identity)


def run_point(base: argparse.Namespace, point: Point, folder: Path, checkpoint: Optional[Path],
              identity: dict, info: DistInfo) -> bool:
    """Evaluate one point into ``folder`` and write its record, unless a matching record exists.

    Returns:
        True when the point was computed, False when it was already finished with the same settings.
    """
    cfg, job, settings = point_job(base, point, folder, checkpoint, identity)
    if point_status(folder, settings) == "done":
        log.info("point %s: finished with the same settings, skipped", point.name)
        return False
    log.info("point %s: evaluating", point.name)
    pending = json.dumps({"overrides": list(point.overrides), "settings": settings}, indent=1) + "\n"
    if folder.is_dir():
        write_text(folder / PENDING_FILE, pending)
    else:
        # The folder appears with its pending record already inside, so a kill at any moment never leaves a point
        # folder that a rerun cannot recognise as the sweep's own.
        with atomic_dir(folder) as tmp:
            write_text(tmp / PENDING_FILE, pending)
    report = evaluate_dataset(cfg, job, info=DistInfo(rank=0, world_size=1, local_rank=info.local_rank))
    if report is None:
        raise ValueError(f"point {point.name}: the evaluation produced no metric (eval.metric=none?)")
    stats = read_run_stats(job.output) or {}
    record = {"overrides": list(point.overrides), "settings": settings, "checkpoint": identity,
              "config": to_dict(cfg), "metrics": {name: report.metrics.get(column) for name, column in METRICS},
              "peak_memory_bytes": stats.get("peak_bytes"), "memory_kind": stats.get("memory_kind"),
              "frames_per_second": stats.get("all_frame_fps"), "frames": stats.get("frames")}
    write_text(folder / POINT_FILE, json.dumps(record, indent=1) + "\n")
    (folder / PENDING_FILE).unlink(missing_ok=True)
    return True


# ------------------------------------------------------------------------------------------------- outputs


def _fmt(value: Optional[float], scale: float = 1.0, digits: int = 1) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def summary_rows(axes: Sequence[Axis], points: Sequence[Point], records: dict[str, dict]) -> list[dict]:
    """One dict per point (grid order): axis values, J_tr, J, peak memory, frames/s; metrics None when missing."""
    rows = []
    for point in points:
        record = records.get(point.name, {})
        metrics = record.get("metrics", {})
        rows.append({**{axis.key: point.value(axis.key) for axis in axes},
                     "J_tr": metrics.get("J_tr"), "J": metrics.get("J"),
                     "peak_memory_bytes": record.get("peak_memory_bytes"),
                     "frames_per_second": record.get("frames_per_second"), "point": point.name})
    return rows


def write_csv(path: Path, rows: Sequence[dict]) -> None:
    """``sweep.csv``: one line per point, metrics in percent as the evaluator prints them."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows([{k: ("" if v is None else v) for k, v in row.items()} for row in rows])
    write_text(path, buffer.getvalue())


def markdown_table(axes: Sequence[Axis], rows: Sequence[dict], memory_kind: str) -> str:
    """The paper's ablation layout: a row per point (its axis values), then J_tr, J, peak memory and frames/s."""
    head = [axis.key for axis in axes] + ["J_tr", "J", f"peak memory (GiB, {memory_kind})", "frames/s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row[axis.key] for axis in axes] + [
            _fmt(row["J_tr"], 100.0), _fmt(row["J"], 100.0), _fmt(row["peak_memory_bytes"], 1 / GIB, 2),
            _fmt(row["frames_per_second"], 1.0, 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def numeric_axis(axes: Sequence[Axis]) -> Optional[Axis]:
    """The last axis whose values are all numbers (the x axis of the figure), or None."""
    for axis in reversed(axes):
        try:
            [float(v) for v in axis.values]
        except ValueError:
            continue
        return axis
    return None


def plot_sweep(path: Path, axes: Sequence[Axis], rows: Sequence[dict]) -> Optional[Path]:
    """J_tr and J against the numeric axis, one line per combination of the other axes (None without one)."""
    from aot_plus.viz.plots import _pyplot, _save

    x_axis = numeric_axis(axes)
    if x_axis is None:
        return None
    others = [axis for axis in axes if axis is not x_axis]
    plt = _pyplot()
    fig, panels = plt.subplots(1, 2, figsize=(10, 4))
    for panel, metric in zip(panels, ("J_tr", "J")):
        for combo in itertools.product(*(axis.values for axis in others)):
            selected = [r for r in rows if all(r[a.key] == v for a, v in zip(others, combo))
                        and r[metric] is not None]
            if selected:
                panel.plot([float(r[x_axis.key]) for r in selected], [100.0 * r[metric] for r in selected],
                           marker="o", label=", ".join(combo) or metric)
        panel.set_xlabel(x_axis.key)
        panel.set_ylabel(f"{metric} (%)")
        panel.set_title(f"{metric} against {x_axis.key}")
        panel.grid(alpha=0.3)
        if others:
            panel.legend(fontsize=8)
    return _save(plt, fig, path)


def write_outputs(output: Path, axes: Sequence[Axis], points: Sequence[Point]) -> list[dict]:
    """Collect every finished point's record and (re)write the CSV, the table and the figure; returns the rows."""
    records = {}
    for point in points:
        record = read_json(output / "points" / point.name / POINT_FILE)
        if record is not None:
            records[point.name] = record
    rows = summary_rows(axes, points, records)
    kinds = sorted({r.get("memory_kind") for r in records.values() if r.get("memory_kind")})
    write_csv(output / "sweep.csv", rows)
    write_text(output / "sweep.md", markdown_table(axes, rows, "/".join(kinds) or "n/a"))
    if records:
        plot_sweep(output / "sweep.png", axes, rows)
    return rows


# ------------------------------------------------------------------------------------------------- CLI


def wait_for_claim(output: Path, timeout_s: float = 300.0) -> None:
    """Wait until rank 0 has claimed the sweep folder (its manifest exists)."""
    deadline = time.monotonic() + timeout_s
    while read_manifest(output) is None:
        if time.monotonic() > deadline:
            raise ValueError(f"--output {output}: rank 0 did not claim the sweep folder within {timeout_s:.0f} s")
        time.sleep(0.1)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m aot_plus.sweep``."""
    parser = argparse.ArgumentParser(prog="python -m aot_plus.sweep", description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    add_dataset_arguments(parser, DATASETS, "sweep folder (points, CSV, table, figure)")
    parser.add_argument("--axis", action="append", required=True, metavar="KEY=V1,V2,...",
                        help="a sweep dimension, e.g. memory=fifo,rmem or memory.max_recent_frames=3,5,8 "
                             "(repeat for a grid)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (128 + the signal number after Ctrl-C or SIGTERM)."""
    return run_ranked_cli(_main, argv,
                          survives="finished points are kept; the same command computes the missing ones")


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    info, prefix = setup_rank_logging()
    try:
        axes = [Axis.parse(text) for text in args.axis]
        points = grid(axes)
        checkpoint = check_checkpoint(parser, args.ckpt)
        identity = checkpoint_identity(checkpoint)
        for point in points:  # every point's config loads, and no record was made with other settings
            point_status(args.output / "points" / point.name,
                         point_job(args, point, args.output / "points" / point.name, checkpoint, identity)[2])
        if info.is_main:  # the other ranks wait for its manifest rather than race to create the folder
            inputs = [dataset_root(cfg_of(args, points[0]), args.dataset), *([checkpoint] if checkpoint else [])]
            claim_folder(args.output, "aot_plus.sweep", inputs=inputs, force=args.force_output, what="sweep folder")
        else:
            wait_for_claim(args.output)
        mine = points[info.rank::info.world_size]
        computed = 0
        with logging_redirect_tqdm():
            bar = tqdm(mine, desc=f"{prefix}points", unit="point", position=info.rank, dynamic_ncols=True)
            for point in bar:
                bar.set_postfix_str(point.name)
                computed += run_point(args, point, args.output / "points" / point.name, checkpoint, identity, info)
            bar.close()
        with open(args.output / ".sweep.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the last rank to get here sees every record
            rows = write_outputs(args.output, axes, points)
    except (ConfigError, *USER_ERRORS) as err:
        sys.stderr.write(f"{prefix}error: {err}\n")
        return 2
    missing = sum(row["J"] is None for row in rows)
    log.info("%d point(s) computed by this process, %d of %d in the table%s", computed, len(rows) - missing,
             len(rows), f" ({missing} still running or missing)" if missing else "")
    if info.is_main or not missing:
        sys.stdout.write(f"Sweep table ({args.output / 'sweep.md'}):\n" + (args.output / "sweep.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
