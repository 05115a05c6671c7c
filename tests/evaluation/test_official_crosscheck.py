"""Byte-for-byte comparison with the official VOST evaluator on random datasets (opt-in).

The official code (TRI-ML/VOST ``evaluation/``) is not part of this repository. Point the environment
variable ``AOT_PLUS_VOST_OFFICIAL_EVAL`` at a checkout of that folder to run these tests; they are
skipped otherwise.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluation import EvaluationOptions, run

OFFICIAL = os.environ.get("AOT_PLUS_VOST_OFFICIAL_EVAL", "")
pytestmark = pytest.mark.skipif(
    not (OFFICIAL and Path(OFFICIAL, "evaluation_method.py").is_file()),
    reason="set AOT_PLUS_VOST_OFFICIAL_EVAL to the official TRI-ML/VOST evaluation/ folder to compare with it",
)

# Runs the unmodified official script with the removed numpy alias restored (pandas imported first).
_LAUNCH = (
    "import sys, runpy, pandas, numpy; numpy.bool = bool; "
    "sys.argv = ['evaluation_method.py'] + sys.argv[1:]; "
    "runpy.run_path('evaluation_method.py', run_name='__main__')"
)


def random_sequence(rng: np.random.Generator, frames: int, shape: tuple[int, int], objects: int):
    """Random blobs per frame, with void, late ids above K in the GT and extra ids in the prediction."""
    annotations, predictions = [], []
    for t in range(frames):
        gt = rng.integers(0, objects + 1, size=shape).astype(np.uint8)
        gt[rng.random(shape) < 0.1] = 255
        if t == 0:
            gt[0, 0] = objects  # K is fixed by the first frame
        elif rng.random() < 0.2:
            gt[rng.random(shape) < 0.05] = objects + 1  # an id above K: never scored
        pred = np.where(rng.random(shape) < 0.7, np.where(gt == 255, 0, gt), rng.integers(0, objects + 2, size=shape))
        annotations.append(gt)
        predictions.append(pred.astype(np.uint8))
    return annotations, predictions


@pytest.mark.parametrize("seed", [0, 1])
def test_identical_to_official(make_dataset, tmp_path: Path, seed: int):
    rng = np.random.default_rng(seed)
    lengths = {"s_short": 3, "s_four": 4, "s_mid": 13, "s_255": 257, "s_256": 258, "s_257": 259, "s_wide": 402}
    annotations, predictions = {}, {}
    for index, (name, frames) in enumerate(lengths.items()):
        shape = (5, 7) if frames > 20 else (24, 31)
        annotations[name], predictions[name] = random_sequence(rng, frames, shape, objects=1 + index % 3)
    listed = list(lengths)[::-1] + ["s_mid"]  # not alphabetical, with a duplicate
    dataset, results = make_dataset(annotations, predictions, listed=listed, stride=3)
    official = tmp_path / "official_results"
    official.symlink_to(results, target_is_directory=True)

    run(results, dataset, EvaluationOptions(workers=2), recompute=True)
    ours = [(results / f).read_bytes() for f in ("global_results-val.csv", "per-sequence_results-val.csv")]
    (results / "global_results-val.csv").unlink()
    (results / "per-sequence_results-val.csv").unlink()
    subprocess.run(
        [sys.executable, "-c", _LAUNCH, "--results_path", str(official), "--dataset_path", str(dataset), "--re"],
        cwd=OFFICIAL,
        check=True,
        capture_output=True,
    )
    theirs = [(results / f).read_bytes() for f in ("global_results-val.csv", "per-sequence_results-val.csv")]
    assert ours == theirs
