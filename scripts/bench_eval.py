"""Benchmark our VOST evaluator against the official one on the metric fixture scaled up.

Builds a VOST-layout dataset from ``tests/fixtures/evaluation/vost_eval_fixture`` by resizing every
annotation and prediction (nearest neighbour) to ``--size`` and cycling the five fixture sequences
to ``--sequences`` sequences of ``--frames`` annotated frames, then times whole command-line runs
(process start included) of ``python -m evaluation`` for each ``--workers`` value and, when
``--official`` points at a checkout of TRI-ML/VOST's ``evaluation/`` folder, of the official
``evaluation_method.py`` (run unmodified from its own folder, with numpy's removed ``np.bool`` alias
restored). The CSVs of all runs are compared byte for byte. Peak RSS is the largest single process
of each run's process tree.

Example::

    python scripts/bench_eval.py --official /tmp/VOST/evaluation --sequences 70 --size 1920x1080 \\
        --workers 1 2 --json bench_eval.json
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional, Sequence

import cv2
import numpy as np
from PIL import Image

logger = logging.getLogger("bench_eval")
REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "evaluation" / "vost_eval_fixture"
CSV_NAMES = ("global_results-val.csv", "per-sequence_results-val.csv")
OFFICIAL_LAUNCH = (
    "import sys, runpy, pandas, numpy; numpy.bool = bool; "
    "sys.argv = ['evaluation_method.py'] + sys.argv[1:]; "
    "runpy.run_path('evaluation_method.py', run_name='__main__')"
)


def _resize_png(source: Path, target: Path, size: tuple[int, int]) -> None:
    with Image.open(source) as image:
        palette = image.getpalette()
        labels = np.asarray(image)
    scaled = Image.fromarray(cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST))
    scaled.putpalette(palette)
    scaled.save(target)


def _frame_order(count: int, frames: int) -> list[int]:
    """Indices 0..count-1 walked back and forth until ``frames`` indices are produced."""
    cycle = list(range(count)) + list(range(count - 2, 0, -1))
    return [cycle[i % len(cycle)] for i in range(frames)]


def _build_sequence(job: tuple[Path, str, str, Path, tuple[int, int], int]) -> None:
    fixture, source, name, out, size, frames = job
    stems = sorted(p.stem for p in (fixture / "dataset" / "Annotations" / source).glob("*.png"))
    order = _frame_order(len(stems), frames or len(stems))
    annotations = out / "dataset" / "Annotations" / name
    predictions = out / "results" / name
    annotations.mkdir(parents=True)
    predictions.mkdir(parents=True)
    for t, index in enumerate(order):
        stem = stems[index]
        _resize_png(fixture / "dataset" / "Annotations" / source / f"{stem}.png", annotations / f"{t:05d}.png", size)
        _resize_png(fixture / "predictions" / source / f"{stem}.png", predictions / f"{t:05d}.png", size)


BENCH_MARK = ".aot_plus_bench"


def _is_old_stamp(path: Path) -> bool:
    """True for the ``stamp.json`` earlier versions wrote (its exact keys), not for any file of that name."""
    try:
        return set(json.loads(path.read_text())) == {"sequences", "size", "frames"}
    except (OSError, ValueError, TypeError):
        return False


def replace_bench_folder(out: Path) -> None:
    """Empty ``out`` for a new build; refuses (one line, exit 1) a folder holding files a benchmark did not write.

    A benchmark's folder carries :data:`BENCH_MARK` (or ``stamp.json``, written by earlier versions).
    """
    if out.exists():
        owned = (out / BENCH_MARK).exists() or _is_old_stamp(out / "stamp.json")
        if not out.is_dir() or (any(out.iterdir()) and not owned):
            raise SystemExit(f"--out {out}: holds files this benchmark did not write; choose a new or empty folder")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / BENCH_MARK).touch()


def report(fields: dict, runs: dict[str, dict], json_path: Optional[Path]) -> int:
    """Print (and write to ``json_path``) ``fields`` plus the runs' times, whether their CSVs are identical and the
    speed-up over the official tool; returns the exit status (1 when the CSVs differ)."""
    reference = next(iter(runs.values()))["csvs"]
    identical = all(run["csvs"] == reference for run in runs.values())
    summary = {**fields, "cpu_count": os.cpu_count(), "csvs_identical": identical,
               "runs": {name: {k: round(v, 3) for k, v in run.items() if k != "csvs"} for name, run in runs.items()}}
    if "official" in runs:
        official = runs["official"]["seconds"]
        summary["speedup_vs_official"] = {name: round(official / run["seconds"], 2)
                                          for name, run in runs.items() if name != "official"}
    text = json.dumps(summary, indent=2)
    sys.stdout.write(text + "\n")
    if json_path is not None:
        json_path.write_text(text + "\n")
    return 0 if identical else 1


def build_dataset(out: Path, sequences: int, size: tuple[int, int], frames: int, jobs: int) -> None:
    """Write the scaled dataset (``out/dataset``) and predictions (``out/results``), reusing a previous build."""
    stamp = out / "stamp.json"
    params = {"sequences": sequences, "size": list(size), "frames": frames}
    if stamp.is_file() and json.loads(stamp.read_text()) == params:
        logger.info("reusing the dataset in %s", out)
        return
    replace_bench_folder(out)
    sources = (FIXTURE / "dataset" / "ImageSets" / "val.txt").read_text().split()
    names = [f"{sources[i % len(sources)]}_{i:03d}" for i in range(sequences)]
    work = [(FIXTURE, sources[i % len(sources)], names[i], out, size, frames) for i in range(sequences)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_build_sequence, work))
    (out / "dataset" / "ImageSets").mkdir(parents=True)
    (out / "dataset" / "ImageSets" / "val.txt").write_text("\n".join(names) + "\n")
    stamp.write_text(json.dumps(params))
    logger.info("built %d sequences at %dx%d in %.1f s", sequences, size[0], size[1], time.perf_counter() - start)


def timed_run(command: Sequence[str], cwd: Path, results: Path, csv_names: Sequence[str] = CSV_NAMES) -> dict:
    """Run a command; return its wall time, the peak RSS of its process tree and its CSV files."""
    for name in csv_names:
        (results / name).unlink(missing_ok=True)
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
        # wait4 rather than wait: its rusage has the peak RSS of this child's process tree.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        stderr = log.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {stderr[-2000:]}")
    csvs = {name: (results / name).read_bytes() for name in csv_names if (results / name).is_file()}
    if len(csvs) != len(csv_names):
        raise RuntimeError(f"{' '.join(command)} wrote no CSV: {stderr[-2000:]}")
    return {"seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024, "csvs": csvs}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse arguments, build the dataset, time the evaluators and print/save the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "aot_plus_bench_eval")
    parser.add_argument("--sequences", type=int, default=70)
    parser.add_argument("--size", default="1920x1080", help="WxH of the scaled frames")
    parser.add_argument("--frames", type=int, default=0, help="annotated frames per sequence (0: as the fixture)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--official", type=Path, help="folder holding the official evaluation_method.py")
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    width, height = (int(v) for v in args.size.lower().split("x"))
    build_dataset(args.out, args.sequences, (width, height), args.frames, max(args.workers))
    dataset, results = args.out / "dataset", args.out / "results"

    runs: dict[str, dict] = {}
    for workers in args.workers:
        command = [sys.executable, "-m", "evaluation", "--results_path", str(results), "--dataset_path", str(dataset)]
        runs[f"ours_w{workers}"] = timed_run(command + ["--re", "--workers", str(workers)], REPO, results)
    if args.official is not None:
        command = [sys.executable, "-c", OFFICIAL_LAUNCH, "--results_path", str(results)]
        runs["official"] = timed_run(command + ["--dataset_path", str(dataset), "--re"], args.official, results)

    annotated = sum(1 for _ in (dataset / "Annotations").glob("*/*.png"))
    return report({"sequences": args.sequences, "size": args.size, "annotated_frames": annotated}, runs, args.json)


if __name__ == "__main__":
    sys.exit(main())
