"""Small dataset layouts generated in temporary folders for the data tests."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest

from aot_plus.data.io import davis_palette, write_label
from aot_plus.data.synthetic import generate_dataset


def write_jpg(path: Path, image: np.ndarray) -> None:
    """Write an RGB uint8 image as JPEG (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.ascontiguousarray(image[:, :, ::-1]))


def write_png(path: Path, label: np.ndarray) -> None:
    """Write a palette label PNG (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_label(path, label.astype(np.uint8), davis_palette())


def blob_label(height: int, width: int, boxes: dict[int, tuple[int, int, int, int]]) -> np.ndarray:
    """A label with rectangles ``{id: (top, left, bottom, right)}`` drawn in order."""
    label = np.zeros((height, width), dtype=np.uint8)
    for obj_id, (top, left, bottom, right) in boxes.items():
        label[top:bottom, left:right] = obj_id
    return label


def frame_image(label: np.ndarray, seed: int = 0) -> np.ndarray:
    """An RGB frame whose colour encodes the label (object k gets a distinct colour) plus mild texture."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(40, 220, (256, 3)).astype(np.uint8)
    colours[0] = (90, 90, 90)
    return colours[label]


class Layout:
    """The helpers above, handed to tests through the ``layout`` fixture."""

    write_jpg = staticmethod(write_jpg)
    write_png = staticmethod(write_png)
    blob_label = staticmethod(blob_label)
    frame_image = staticmethod(frame_image)


@pytest.fixture
def layout() -> type[Layout]:
    """Helpers to write frames and labels."""
    return Layout


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic VOST dataset: 5 sequences of 12 frames at 96 x 128."""
    root = tmp_path_factory.mktemp("synthetic") / "VOST"
    generate_dataset(root, sequences=5, frames=12, seed=3, height=96, width=128)
    return root


@pytest.fixture
def make_vost(tmp_path: Path) -> Callable[..., Path]:
    """Builds a VOST layout: ``make_vost({seq: [label, ...]}, val=[names])`` (10 fps = 2 x annotated)."""

    def build(sequences: dict[str, list[np.ndarray]], val: list[str] | None = None,
              train: list[str] | None = None) -> Path:
        root = tmp_path / "VOST"
        for name, labels in sequences.items():
            for i, label in enumerate(labels):
                stem = f"{6 * i:05d}"
                image = frame_image(label, i)
                write_jpg(root / "JPEGImages" / name / f"{stem}.jpg", image)
                write_jpg(root / "JPEGImages_10fps" / name / f"{stem}.jpg", image)
                write_jpg(root / "JPEGImages_10fps" / name / f"{6 * i + 3:05d}.jpg", image)
                write_png(root / "Annotations" / name / f"{stem}.png", label)
        (root / "ImageSets").mkdir(parents=True, exist_ok=True)
        (root / "ImageSets" / "val.txt").write_text("\n".join(val if val is not None else list(sequences)))
        (root / "ImageSets" / "train.txt").write_text("\n".join(train if train is not None else list(sequences)))
        return root

    return build


@pytest.fixture
def youtubevos_root(tmp_path: Path) -> Path:
    """YouTube-VOS 2019 ``valid`` (object 2 of ``vid_a`` starts at frame 00010) and ``train`` splits."""
    root = tmp_path / "YTB"
    split = root / "2019" / "valid"
    stems = ["00000", "00005", "00010", "00015"]
    for i, stem in enumerate(stems):
        write_jpg(split / "JPEGImages" / "vid_a" / f"{stem}.jpg", np.full((40, 60, 3), 30 * i, np.uint8))
    for i in range(20):
        write_jpg(root / "2019" / "valid_all_frames" / "JPEGImages" / "vid_a" / f"{i:05d}.jpg",
                  np.full((40, 60, 3), 10 * i, np.uint8))
    write_png(split / "Annotations" / "vid_a" / "00000.png", blob_label(40, 60, {3: (0, 0, 10, 10)}))
    write_png(split / "Annotations" / "vid_a" / "00010.png", blob_label(40, 60, {5: (20, 20, 30, 40)}))
    write_jpg(split / "JPEGImages" / "vid_b" / "00003.jpg", np.zeros((40, 60, 3), np.uint8))
    write_jpg(split / "JPEGImages" / "vid_b" / "00008.jpg", np.zeros((40, 60, 3), np.uint8))
    write_png(split / "Annotations" / "vid_b" / "00003.png", blob_label(40, 60, {1: (5, 5, 30, 30)}))
    meta = {"videos": {"vid_b": {"objects": {"1": {"category": "x", "frames": ["00003", "00008"]}}},
                       "vid_a": {"objects": {"3": {"category": "x", "frames": stems},
                                             "5": {"category": "y", "frames": ["00010", "00015"]}}}}}
    (split / "meta.json").write_text(json.dumps(meta))
    train = root / "2019" / "train"
    for stem in stems:
        label = blob_label(40, 60, {1: (0, 0, 20, 20), 2: (20, 30, 40, 60)})
        write_jpg(train / "JPEGImages" / "vid_t" / f"{stem}.jpg", frame_image(label))
        write_png(train / "Annotations" / "vid_t" / f"{stem}.png", label)
    train_meta = {"videos": {"vid_t": {"objects": {"1": {"frames": stems}, "2": {"frames": stems[:1]}}},
                             "vid_short": {"objects": {"1": {"frames": ["00000"]}}}}}
    (train / "meta.json").write_text(json.dumps(train_meta))
    return root


@pytest.fixture
def davis_root(tmp_path: Path) -> Callable[[bool], Path]:
    """DAVIS 2017 in the aot-benchmark layout (``flat=False``) or the RMem fork's (``flat=True``)."""

    def build(flat: bool) -> Path:
        root = tmp_path / ("DAVIS_flat" if flat else "DAVIS")
        level = Path() if flat else Path("480p")
        for name in ("dog", "car"):
            for i in range(3):
                label = blob_label(60, 100, {1: (10, 10, 30, 30), 2: (30, 50, 50, 90)})
                write_jpg(root / "JPEGImages" / level / name / f"{i:05d}.jpg", frame_image(label))
                write_png(root / "Annotations" / level / name / f"{i:05d}.png", label)
        lists = root / "ImageSets" / ("" if flat else "2017")
        lists.mkdir(parents=True, exist_ok=True)
        (lists / "val.txt").write_text("dog\ncar\ndog\n")
        (lists / "train.txt").write_text("dog\ncar\n")
        return root

    return build
