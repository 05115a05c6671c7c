"""The synthetic VOST-layout generator: determinism, layout, palette, void, readability, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aot_plus.data import VOSTEval
from aot_plus.data.io import davis_palette
from aot_plus.data.synthetic import EVENTS, generate_dataset, main
from aot_plus.data.vost import vost_train_sequences
from aot_plus.data.config import VOSTConfig


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", sequences=3, frames=5, seed=11, height=48, width=64)
    generate_dataset(tmp_path / "b", sequences=3, frames=5, seed=11, height=48, width=64)
    generate_dataset(tmp_path / "c", sequences=3, frames=5, seed=12, height=48, width=64)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b and a != c
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_layout_palette_and_void(synthetic_root: Path) -> None:
    info = json.loads((synthetic_root / "synthetic.json").read_text())
    train = (synthetic_root / "ImageSets" / "train.txt").read_text().split("\n")
    val = (synthetic_root / "ImageSets" / "val.txt").read_text().split("\n")
    assert len(train) == 4 and len(val) == 1 and not set(train) & set(val)
    void_frames = 0
    for item in info["items"]:
        name = item["name"]
        tenfps = sorted(p.name for p in (synthetic_root / "JPEGImages_10fps" / name).iterdir())
        annotated = sorted(p.name for p in (synthetic_root / "JPEGImages" / name).iterdir())
        labels = sorted((synthetic_root / "Annotations" / name).iterdir())
        assert tenfps == [f"{3 * t:05d}.jpg" for t in range(12)] and annotated == tenfps[::2]
        assert [p.stem for p in labels] == [Path(a).stem for a in annotated]
        for path in labels:
            with Image.open(path) as image:
                assert image.mode == "P" and image.size == (128, 96)
                assert np.array_equal(np.array(image.getpalette()).reshape(-1, 3)[:256], davis_palette())
                label = np.array(image)
            void_frames += int((label == 255).any())
        with Image.open(labels[0]) as image:
            first = set(np.unique(np.array(image)).tolist()) - {0, 255}
        assert first == set(range(1, item["objects"] + 1))
    assert void_frames > 0


def test_events_cover_vost_changes(tmp_path: Path) -> None:
    made = generate_dataset(tmp_path / "d", sequences=12, frames=8, seed=0, height=48, width=64)
    assert set().union(*(seq.events for seq in made)) == set(EVENTS)
    assert all(seq.name.split("_")[0].isdigit() for seq in made)


def test_readable_by_vost_reader(synthetic_root: Path) -> None:
    dataset = VOSTEval(synthetic_root, "val")
    seq = dataset[0]
    assert len(seq) == 12 and seq.size == (96, 128) and seq.num_objects(0) >= 1
    assert seq.load_image(11).shape == (96, 128, 3) and seq.load_label(0).max() == seq.num_objects(0)
    train = vost_train_sequences(VOSTConfig(root=str(synthetic_root)))
    assert len(train) == 4 and all(len(s.frames) == 6 for s in train)


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert main(["--out", str(out), "--sequences", "2", "--frames", "4", "--seed", "1", "--height", "40",
                 "--width", "48"]) == 0
    assert (out / "ImageSets" / "train.txt").read_text().count("\n") == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(out), "--sequences", "2", "--frames", "4"])
    assert exit_info.value.code == 2
    assert main(["--out", str(out), "--sequences", "1", "--frames", "4", "--height", "40", "--width", "48",
                 "--overwrite"]) == 0
    assert (out / "ImageSets" / "val.txt").read_text() == (out / "ImageSets" / "train.txt").read_text()
