"""End to end on a tiny Long Videos layout: every frame segmented, J&F on the sparse annotated frames only."""
from __future__ import annotations

import numpy as np
from PIL import Image

import evaluation
from aot_plus.data.io import davis_palette, write_label
from aot_plus.eval import main

from .conftest import BASE_OVERRIDES, CONFIG, HEIGHT, WIDTH


def test_long_videos_sparse_annotations(vost_root, checkpoint, tmp_path):
    name = (vost_root / "ImageSets" / "val.txt").read_text().split()[0]
    sources = sorted((vost_root / "JPEGImages_10fps" / name).glob("*.jpg"))
    root = tmp_path / "long_videos"
    (root / "JPEGImages" / "480p" / "blue").mkdir(parents=True)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "Annotations" / "480p" / "blue").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("blue\n")
    stems = [f"{i:05d}" for i in range(len(sources))]
    annotated = stems[::2]  # an annotation every second frame
    for stem, source in zip(stems, sources):
        (root / "JPEGImages" / "480p" / "blue" / f"{stem}.jpg").write_bytes(source.read_bytes())
    label = np.zeros((HEIGHT, WIDTH), np.uint8)
    label[10:40, 10:50] = 1
    for stem in annotated:
        write_label(root / "Annotations" / "480p" / "blue" / f"{stem}.png", label, davis_palette())
    out = tmp_path / "out"
    args = ["--config", str(CONFIG), "--dataset", "long_videos", "--split", "val", "--ckpt", str(checkpoint),
            "--output", str(out), "--dataset-path", str(root), *BASE_OVERRIDES,
            "data.long_videos_output_height=null"]  # the annotations keep the frames' size here
    assert main(args) == 0
    assert sorted(p.stem for p in (out / "blue").iterdir()) == stems
    with Image.open(out / "blue" / f"{stems[1]}.png") as img:
        assert img.size == (WIDTH, HEIGHT)
    report = evaluation.evaluate(out, root, evaluation.EvaluationOptions(metric="jf"))
    assert report.objects[0].frames == tuple(annotated[1:-1])  # first and last annotated frames are not scored
    assert (out / "global_results-val.csv").read_text() == report.global_table.to_csv()
