"""End to end on a tiny LVOS-layout dataset: ``python -m aot_plus.eval --dataset lvos``, then the LVOS metric."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

import evaluation
from aot_plus.data.io import davis_palette, write_label
from aot_plus.eval import main

from .conftest import BASE_OVERRIDES, CONFIG, HEIGHT, WIDTH


def _lvos_from_vost(vost_root: Path, split: Path) -> list[str]:
    """Frames of the first synthetic VOST sequence renamed 00000001, 00000006, ...; object 1 everywhere but one
    frame (it leaves and returns), object 2 appearing on the third frame."""
    name = (vost_root / "ImageSets" / "val.txt").read_text().split()[0]
    sources = sorted((vost_root / "JPEGImages_10fps" / name).glob("*.jpg"))
    stems = [f"{1 + 5 * i:08d}" for i in range(len(sources))]
    (split / "JPEGImages" / "vid").mkdir(parents=True)
    (split / "Annotations" / "vid").mkdir(parents=True)
    for index, (source, stem) in enumerate(zip(sources, stems)):
        (split / "JPEGImages" / "vid" / f"{stem}.jpg").write_bytes(source.read_bytes())
        label = np.zeros((HEIGHT, WIDTH), np.uint8)
        if index != 3:
            label[10:40, 10:50] = 1
        if index >= 2:
            label[45:60, 60:90] = 2
        write_label(split / "Annotations" / "vid" / f"{stem}.png", label, davis_palette())
    last = 1 + 5 * (len(stems) - 1)
    meta = {"videos": {"vid": {"objects": {
        "1": {"frame_range": {"start": stems[0], "end": f"{last:08d}", "frame_nums": len(stems)}},
        "2": {"frame_range": {"start": stems[2], "end": f"{last:08d}", "frame_nums": len(stems) - 2}},
    }}}}
    (split / "valid_meta.json").write_text(json.dumps(meta))
    (split / "unseen_videos.txt").write_text("vid\n")
    return stems


def test_lvos_dataset_run_and_metric(vost_root, checkpoint, tmp_path):
    split = tmp_path / "LVOS" / "valid"
    stems = _lvos_from_vost(vost_root, split)
    out = tmp_path / "lvos_out"
    args = ["--config", str(CONFIG), "--dataset", "lvos", "--split", "valid", "--ckpt", str(checkpoint),
            "--output", str(out), "--dataset-path", str(tmp_path / "LVOS"), *BASE_OVERRIDES]
    assert main(args) == 0
    assert sorted(p.stem for p in (out / "vid").iterdir()) == stems
    given = np.array(Image.open(split / "Annotations" / "vid" / f"{stems[2]}.png"))
    with Image.open(out / "vid" / f"{stems[2]}.png") as img:
        assert img.size == (WIDTH, HEIGHT) and (np.array(img)[given == 2] == 2).all()
    with open(out / "per-sequence_results-valid.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["Sequence"] for r in rows] == ["vid_1", "vid_2"]
    with open(out / "global_results-valid.csv") as handle:
        (total,) = list(csv.DictReader(handle))
    assert total["J-seen-Mean"] == "" and 0.0 <= float(total["J-unseen-Mean"]) <= 1.0
    # The runner's metric is the evaluator's, on the same files.
    again = evaluation.evaluate(out, split, evaluation.EvaluationOptions(subset="valid", metric="lvos"))
    assert again.global_table.to_csv() == (out / "global_results-valid.csv").read_text()
    assert again.per_sequence_table.to_csv() == (out / "per-sequence_results-valid.csv").read_text()
