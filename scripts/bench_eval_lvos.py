"""Benchmark ``python -m evaluation --metric lvos`` against the official LVOS toolkit on a generated LVOS split.

Writes ``--videos`` videos of ``--frames`` annotated frames (numbered 1, 6, 11, ...) at ``--size`` with
``--objects`` moving rectangles each (some appear late, some leave for a while), and predictions that follow
them with an offset; half of the videos are listed as unseen. Then times whole command-line runs (process start
included) of ours for each ``--workers`` value and, when ``--official`` points at a checkout of
LingyiHongfd/lvos-evaluation, of its unmodified ``evaluation_method.py --mp_nums 1`` (run from a temporary copy,
since it reads ``./unseen_videos.txt``; ``--official-python`` needs NumPy < 2). The CSVs of all runs are compared
byte for byte; peak RSS is the largest single process of each run's process tree.

Example::

    python scripts/bench_eval_lvos.py --official /tmp/lvos-evaluation --official-python /tmp/venv/bin/python \\
        --videos 4 --frames 40 --size 1280x720 --workers 1 2
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_eval import REPO, replace_bench_folder, report, timed_run  # noqa: E402

logger = logging.getLogger("bench_eval_lvos")
CSV_NAMES = ("global_results-valid.csv", "per-sequence_results-valid.csv")
OFFICIAL_LAUNCH = ("import sys, runpy; sys.argv = ['evaluation_method.py'] + sys.argv[1:]; "
                   "runpy.run_path('evaluation_method.py', run_name='__main__')")
STEP = 5


def _save(path: Path, labels: np.ndarray, palette: list[int]) -> None:
    image = Image.fromarray(labels)
    image.putpalette(palette)
    image.save(path)


def build_split(out: Path, videos: int, frames: int, objects: int, size: tuple[int, int], seed: int) -> list[str]:
    """Write ``out/valid`` (annotations, meta) and ``out/results``; returns the unseen video names."""
    rng = np.random.default_rng(seed)
    width, height = size
    palette = [v for i in range(256) for v in (i * 37 % 256, i * 91 % 256, i * 53 % 256)]
    split, results = out / "valid", out / "results"
    meta: dict = {"videos": {}}
    names = [f"video{index:03d}" for index in range(videos)]
    for name in names:
        (split / "Annotations" / name).mkdir(parents=True)
        (results / name).mkdir(parents=True)
        starts = [0] + [int(rng.integers(0, frames // 2)) for _ in range(objects - 1)]
        gaps = [(int(g), int(g) + frames // 8) for g in rng.integers(frames // 4, frames // 2, size=objects)]
        boxes = [(rng.integers(0, height // 2), rng.integers(0, width // 2)) for _ in range(objects)]
        for t in range(frames):
            gt = np.zeros((height, width), np.uint8)
            pred = np.zeros((height, width), np.uint8)
            for k in range(objects):
                if t < starts[k] or gaps[k][0] <= t < gaps[k][1]:
                    continue
                top = int(boxes[k][0] + 2 * t) % (height // 2)
                left = int(boxes[k][1] + 3 * t) % (width // 2)
                gt[top:top + height // 4, left:left + width // 4] = k + 1
                dy, dx = rng.integers(-8, 9, size=2)
                pred[max(top + dy, 0):top + dy + height // 4, max(left + dx, 0):left + dx + width // 4] = k + 1
            number = 1 + STEP * t
            _save(split / "Annotations" / name / f"{number:08d}.png", gt, palette)
            _save(results / name / f"{number:08d}.png", pred, palette)
        last = 1 + STEP * (frames - 1)
        meta["videos"][name] = {"objects": {str(k + 1): {"frame_range": {
            "start": f"{1 + STEP * starts[k]:08d}", "end": f"{last:08d}", "frame_nums": frames - starts[k]}}
            for k in range(objects)}}
    (split / "valid_meta.json").write_text(json.dumps(meta))
    unseen = names[::2]
    (out / "unseen_videos.txt").write_text("\n".join(unseen) + "\n")
    return unseen


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse arguments, build the split, time the evaluators and print/save the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "aot_plus_bench_eval_lvos")
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--objects", type=int, default=2)
    parser.add_argument("--size", default="1280x720", help="WxH of the annotations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--official", type=Path, help="checkout of LingyiHongfd/lvos-evaluation")
    parser.add_argument("--official-python", default=sys.executable, help="interpreter for the official toolkit")
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    width, height = (int(v) for v in args.size.lower().split("x"))
    replace_bench_folder(args.out)
    build_split(args.out, args.videos, args.frames, args.objects, (width, height), args.seed)
    split, results, unseen = args.out / "valid", args.out / "results", args.out / "unseen_videos.txt"

    runs: dict[str, dict] = {}
    for workers in args.workers:
        command = [sys.executable, "-m", "evaluation", "--metric", "lvos", "--set", "valid", "--re",
                   "--results_path", str(results), "--dataset_path", str(split), "--unseen_list", str(unseen),
                   "--workers", str(workers)]
        runs[f"ours_w{workers}"] = timed_run(command, REPO, results, CSV_NAMES)
    if args.official is not None:
        toolkit = args.out / "toolkit"
        shutil.copytree(args.official, toolkit, ignore=shutil.ignore_patterns(".git", "cache_data"))
        shutil.copyfile(unseen, toolkit / "unseen_videos.txt")
        command = [args.official_python, "-c", OFFICIAL_LAUNCH, "--lvos_path", str(split), "--set", "valid",
                   "--results_path", str(results), "--mp_nums", "1"]
        runs["official"] = timed_run(command, toolkit, results, CSV_NAMES)

    annotated = sum(1 for _ in (split / "Annotations").glob("*/*.png"))
    return report({"videos": args.videos, "size": args.size, "objects_per_video": args.objects,
                   "annotated_frames": annotated}, runs, args.json)


if __name__ == "__main__":
    sys.exit(main())
