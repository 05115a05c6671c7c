"""Comparison with the official LVOS toolkit on random LVOS datasets (opt-in).

The official code (LingyiHongfd/lvos-evaluation) is not part of this repository. Point the environment variable
``AOT_PLUS_LVOS_OFFICIAL_EVAL`` at a checkout of it (the folder holding ``evaluation_method.py`` and ``lvos/``)
to run these tests; they are skipped otherwise. The toolkit needs NumPy < 2 (it stores one-element arrays into
array cells, an error since NumPy 2), pandas, scipy, scikit-image, OpenCV and tqdm: point
``AOT_PLUS_LVOS_OFFICIAL_PYTHON`` at an interpreter that has them (default: this one). It is copied to a
temporary folder first, because it reads ``./unseen_videos.txt`` from its working directory.

Each case runs the unmodified official script twice: once as it is (its ``%.3f`` CSVs must equal ours byte for
byte), and once with pandas writing every float with 17 significant digits, so that every value is compared at
full precision with the values of our report.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluation import EvaluationOptions, run
from evaluation.report import Table

from .conftest import write_lvos

OFFICIAL = os.environ.get("AOT_PLUS_LVOS_OFFICIAL_EVAL", "")
OFFICIAL_PYTHON = os.environ.get("AOT_PLUS_LVOS_OFFICIAL_PYTHON", sys.executable)
pytestmark = pytest.mark.skipif(
    not (OFFICIAL and Path(OFFICIAL, "evaluation_method.py").is_file()),
    reason="set AOT_PLUS_LVOS_OFFICIAL_EVAL to a checkout of LingyiHongfd/lvos-evaluation to compare with it",
)

_LAUNCH = (
    "import os, sys, runpy, pandas\n"
    "if os.environ.get('FULL_PRECISION'):\n"
    "    write = pandas.DataFrame.to_csv\n"
    "    pandas.DataFrame.to_csv = lambda self, *a, **k: write(self, *a, **dict(k, float_format='%.17g'))\n"
    "sys.argv = ['evaluation_method.py'] + sys.argv[1:]\n"
    "runpy.run_path('evaluation_method.py', run_name='__main__')\n"
)
CSV_NAMES = ("global_results-valid.csv", "per-sequence_results-valid.csv")


def _rectangle(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[slice, slice]:
    h, w = shape
    top, left = int(rng.integers(0, h - 2)), int(rng.integers(0, w - 2))
    return slice(top, int(rng.integers(top + 1, h))), slice(left, int(rng.integers(left + 1, w)))


def random_video(rng: np.random.Generator, shape: tuple[int, int], frames: int, ranges: dict[str, tuple[int, int]]):
    """Annotations and predictions of frames 1, 6, ...: objects present inside their range (sometimes absent),
    void, an id of no object, and predictions that are shifted, empty or noisy."""
    annotations, predictions = {}, {}
    for number in range(1, 5 * frames, 5):
        gt = np.zeros(shape, dtype=np.uint8)
        pred = np.zeros(shape, dtype=np.uint8)
        for key, (first, last) in ranges.items():
            obj = int(key)
            if not first <= number <= last:
                continue
            if rng.random() < 0.8 or number == first:
                rows, cols = _rectangle(rng, shape)
                gt[rows, cols] = obj
                draw = rng.random()
                if draw < 0.7:
                    dy, dx = (int(v) for v in rng.integers(-2, 3, size=2))
                    shifted_rows = slice(max(rows.start + dy, 0), max(rows.stop + dy, 0))
                    pred[shifted_rows, max(cols.start + dx, 0):max(cols.stop + dx, 0)] = obj
                elif draw < 0.85:
                    pred[_rectangle(rng, shape)] = obj
            elif rng.random() < 0.5:
                pred[_rectangle(rng, shape)] = obj  # absent from the annotation, predicted anyway
        if rng.random() < 0.3:
            gt[_rectangle(rng, shape)] = 255
        if rng.random() < 0.2:
            gt[rng.random(shape) < 0.05] = 9  # an id of no object
        noise = rng.random(shape) < 0.03
        pred[noise] = rng.integers(0, 4, size=int(noise.sum()))
        annotations[number] = gt
        predictions[number] = pred
    return annotations, predictions


def meta_entry(first: int, last: int, style: str) -> tuple[int, int, int]:
    """(start, end, frame_nums) of an object annotated on frames first..last (step 5), in several styles."""
    count = (last - first) // 5 + 1
    if style == "inclusive":  # end = last frame, never read; frame_nums = every frame of the range
        return first, last, count
    if style == "exclusive":  # end one step beyond: the last position is skipped by frame_nums - 1
        return first, last + 5, count
    if style == "short":  # frame_nums larger than the range: unreached slots score 0
        return first, last, count + 2
    raise ValueError(style)


def dataset(tmp_path: Path, seed: int, degenerate: bool) -> tuple[Path, Path, list[str]]:
    rng = np.random.default_rng(seed)
    split, results = tmp_path / "valid", tmp_path / "results"
    videos = {
        "b_late": ((24, 31), 14, {"1": (1, 66, "inclusive"), "2": (21, 66, "exclusive"), "4": (31, 51, "inclusive")}),
        "a_one": ((30, 20), 9, {"1": (1, 41, "exclusive")}),
        "c_wide": ((160, 210), 7, {"3": (1, 31, "inclusive"), "1": (6, 31, "short" if degenerate else "inclusive")}),
        "d_unseen": ((40, 40), 12, {"1": (1, 56, "inclusive"), "2": (1, 56, "exclusive")}),
    }
    if degenerate:
        videos["e_two"] = ((16, 16), 3, {"1": (1, 6, "inclusive")})  # frame_nums 2: no slot, NaN means
    meta, annotations, predictions = {}, {}, {}
    for name, (shape, frames, objects) in videos.items():
        annotations[name], predictions[name] = random_video(
            rng, shape, frames, {key: (first, last) for key, (first, last, _) in objects.items()})
        meta[name] = {key: meta_entry(first, last, style) for key, (first, last, style) in objects.items()}
    write_lvos(split, meta, annotations, predictions, results)
    return split, results, ["d_unseen", "a_one"]


def _official(tmp_path: Path, split: Path, results: Path, unseen: list[str], full_precision: bool) -> list[Path]:
    toolkit = tmp_path / "toolkit"
    if not toolkit.exists():
        shutil.copytree(OFFICIAL, toolkit, ignore=shutil.ignore_patterns(".git", "cache_data"))
    (toolkit / "unseen_videos.txt").write_text("\n".join(unseen) + "\n")
    out = tmp_path / ("official_full" if full_precision else "official")
    out.symlink_to(results, target_is_directory=True)
    env = dict(os.environ)
    env.pop("FULL_PRECISION", None)
    if full_precision:
        env["FULL_PRECISION"] = "1"
    for name in CSV_NAMES:
        (results / name).unlink(missing_ok=True)
    done = subprocess.run([OFFICIAL_PYTHON, "-c", _LAUNCH, "--lvos_path", str(split), "--set", "valid",
                           "--results_path", str(out), "--mp_nums", "1", "--task", "semi-supervised"],
                          cwd=toolkit, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [results / name for name in CSV_NAMES]


def _same(ours: Table, theirs: Table) -> bool:
    if ours.columns != theirs.columns or len(ours.rows) != len(theirs.rows):
        return False
    for row_a, row_b in zip(ours.rows, theirs.rows):
        for a, b in zip(row_a, row_b):
            if isinstance(a, str) or isinstance(b, str):
                if a != b:
                    return False
            elif not (a == b or (math.isnan(a) and math.isnan(b))):
                return False
    return True


@pytest.mark.parametrize("seed,degenerate", [(0, False), (1, False), (2, True)])
def test_identical_to_official(tmp_path: Path, seed: int, degenerate: bool):
    split, results, unseen = dataset(tmp_path, seed, degenerate)
    (split / "unseen_videos.txt").write_text("\n".join(unseen) + "\n")
    report, _ = run(results, split, EvaluationOptions(subset="valid", metric="lvos", workers=2), recompute=True)
    ours = [path.read_bytes() for path in (results / name for name in CSV_NAMES)]

    theirs = [path.read_bytes() for path in _official(tmp_path, split, results, unseen, full_precision=False)]
    assert ours == theirs

    full = [Table.from_csv(path) for path in _official(tmp_path, split, results, unseen, full_precision=True)]
    assert _same(report.global_table, full[0]), (report.global_table, full[0])
    assert _same(report.per_sequence_table, full[1]), (report.per_sequence_table, full[1])
    assert len(report.per_sequence_table.rows) == (9 if degenerate else 8)
