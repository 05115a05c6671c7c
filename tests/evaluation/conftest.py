"""Helpers for the evaluation tests: the copied VOST fixture and a writer of small datasets."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pytest
from PIL import Image

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "evaluation" / "vost_eval_fixture"


def palette() -> list[int]:
    """The PASCAL/DAVIS colour map as a flat 768-entry palette."""
    colours = []
    for index in range(256):
        r = g = b = 0
        value = index
        for bit in range(8):
            r |= ((value >> 0) & 1) << (7 - bit)
            g |= ((value >> 1) & 1) << (7 - bit)
            b |= ((value >> 2) & 1) << (7 - bit)
            value >>= 3
        colours += [r, g, b]
    return colours


def write_png(path: Path, labels: np.ndarray, mode: str = "P") -> None:
    """Write an index map as a palette PNG (or as another mode, to test rejection)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8))
    if mode == "P":
        image.putpalette(palette())  # an "L" image becomes "P" with its values as indices
    elif mode != "L":
        image = image.convert(mode)
    image.save(path)


Frames = Sequence[np.ndarray]
DatasetWriter = Callable[..., tuple[Path, Path]]


def _write_dataset(
    root: Path,
    annotations: Mapping[str, Frames],
    predictions: Mapping[str, Frames],
    layout: str = "vost",
    subset: str = "val",
    listed: Sequence[str] | None = None,
    stride: int = 1,
) -> tuple[Path, Path]:
    dataset = root / "dataset"
    results = root / "results"
    if layout == "davis":
        annotation_root = dataset / "Annotations" / "480p"
        list_file = dataset / "ImageSets" / "2017" / f"{subset}.txt"
    else:
        annotation_root = dataset / "Annotations"
        list_file = dataset / "ImageSets" / f"{subset}.txt"
    for name, frames in annotations.items():
        for t, labels in enumerate(frames):
            write_png(annotation_root / name / f"{t * stride:05d}.png", labels)
    for name, frames in predictions.items():
        (results / name).mkdir(parents=True, exist_ok=True)
        for t, labels in enumerate(frames):
            write_png(results / name / f"{t * stride:05d}.png", labels)
    results.mkdir(parents=True, exist_ok=True)
    list_file.parent.mkdir(parents=True, exist_ok=True)
    list_file.write_text("\n".join(listed if listed is not None else list(annotations)) + "\n")
    return dataset, results


@pytest.fixture
def make_dataset(tmp_path: Path) -> DatasetWriter:
    """Factory writing ``annotations`` / ``predictions`` ({sequence: [labels, ...]}) under tmp_path.

    Returns (dataset_path, results_path). Frame t is named ``{t * stride:05d}.png``.
    """

    def factory(annotations, predictions, **kwargs):
        return _write_dataset(tmp_path, annotations, predictions, **kwargs)

    return factory


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[[str], tuple[Path, Path, Path]]:
    """Copy a fixture case's predictions to tmp_path; returns (dataset, results, expected) folders."""

    def factory(case: str = "") -> tuple[Path, Path, Path]:
        base = FIXTURE / case if case else FIXTURE
        results = tmp_path / f"results_{case.replace('/', '_') or 'main'}"
        shutil.copytree(base / "predictions", results)
        return base / "dataset", results, base / "expected"

    return factory


@pytest.fixture
def write_png_fn() -> Callable[..., None]:
    """The :func:`write_png` helper, for tests that rewrite single files."""
    return write_png


#: An LVOS object in a test: (start, end, frame_nums) of its meta ``frame_range``.
FrameRange = tuple[int, int, int]


def write_lvos(
    split_dir: Path,
    meta: Mapping[str, Mapping[str, FrameRange]],
    annotations: Mapping[str, Mapping[int, np.ndarray]],
    predictions: Mapping[str, Mapping[int, np.ndarray]],
    results: Path,
    meta_name: str = "valid_meta.json",
) -> None:
    """Write an LVOS split (``Annotations/<video>/%08d.png`` and the meta JSON) and a results folder."""
    videos = {
        video: {"objects": {key: {"frame_range": {"start": f"{s:08d}", "end": f"{e:08d}", "frame_nums": n}}
                            for key, (s, e, n) in objects.items()}}
        for video, objects in meta.items()
    }
    split_dir.mkdir(parents=True, exist_ok=True)
    (split_dir / meta_name).write_text(json.dumps({"videos": videos}))
    for video, frames in annotations.items():
        for number, labels in frames.items():
            write_png(split_dir / "Annotations" / video / f"{number:08d}.png", labels)
    results.mkdir(parents=True, exist_ok=True)
    for video, frames in predictions.items():
        for number, labels in frames.items():
            write_png(results / video / f"{number:08d}.png", labels)
