"""A shortened ``DEMO_TRAIN=1 bash scripts/demo.sh`` (tiny dataset, a short from-scratch training) runs end to end,
prints the policy table, writes the plots, and the model it trained has learned something: its masks are not empty
after the first frame of the validation videos."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
ROWS = ("unbounded", "fifo", "rmem", "emfs", "fifo_4")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="the demo is a bash script")
def test_short_training_demo_segments_and_prints_the_policy_table(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, VENV=sys.prefix, DEMO_SKIP_INSTALL="1", DEMO_OUT=str(out), DEMO_TRAIN="1",
               DEMO_STEPS="100", DEMO_SEQUENCES="4", DEMO_FRAMES="16", DEMO_VAL_FRAMES="16", DEMO_HEIGHT="65",
               DEMO_WIDTH="97", DEMO_CROP="65", DEMO_DEVICE="cpu", DEMO_THREADS="1", DEMO_MAX_RECENT="2",
               DEMO_LARGE_RECENT="4")
    done = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {}
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"(\w+)\s+(\d+\.\d)\s+(\d+\.\d)\s+(\d+)\s+(\d+\.\d)\s+(\d+)", line.strip())
        if match:
            rows[match[1]] = (float(match[2]), float(match[3]), int(match[4]), float(match[5]), int(match[6]))
    assert set(rows) == set(ROWS), done.stdout
    for name, (j, j_tr, bank, ms, mib) in rows.items():
        assert 0.0 <= j <= 100.0 and 0.0 <= j_tr <= 100.0 and ms > 0 and mib > 0
    assert rows["fifo"][2] == 3 and rows["fifo_4"][2] == 5  # 1 reference + the recent frames
    assert rows["unbounded"][2] > 5
    val = (out / "data" / "ImageSets" / "val.txt").read_text().split()
    assert val
    for name in ROWS:
        plots = out / "results" / name / "plots"
        for seq in val:
            for suffix in ("_memory.png", "_memory.json", "_J.png", "_J.json"):
                assert (plots / f"{seq}{suffix}").stat().st_size > 0
        assert json.loads((out / "results" / name / "run_stats.json").read_text())["frames"] > 0
    figure = out / "memory_policies.png"
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert str(figure) in done.stdout
    # learning happened: after the first frame the trained model still predicts the objects of a validation video
    seq = val[0]
    predicted = sorted((out / "results" / "unbounded" / seq).glob("*.png"))[1:]
    foreground = [int((np.array(Image.open(p)) > 0).sum()) for p in predicted]
    assert len(foreground) >= 10
    assert sum(f > 0 for f in foreground) >= 0.8 * len(foreground), foreground


@pytest.mark.skipif(shutil.which("bash") is None, reason="the demo is a bash script")
def test_demo_refuses_an_output_folder_holding_other_files(tmp_path):
    out = tmp_path / "mine"
    (out / "results").mkdir(parents=True)
    precious = out / "thesis.tex"
    precious.write_text("do not delete")
    kept = out / "results" / "old.txt"
    kept.write_text("mine too")
    env = dict(os.environ, VENV=sys.prefix, DEMO_SKIP_INSTALL="1", DEMO_OUT=str(out))
    done = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "thesis.tex" in done.stderr and "DEMO_OUT" in done.stderr
    assert precious.read_text() == "do not delete" and kept.read_text() == "mine too"
    assert not (out / ".aot_plus_demo").exists()


def test_shipped_demo_model_segments_its_validation_video(tmp_path):
    """The model that ``bash scripts/demo.sh`` evaluates by default is in the repository, fits its size budget, loads
    into its config's network, and segments the first 30 frames of its first validation video (regenerated from
    ``checkpoints/demo/data.args``): every annotated frame after the first has foreground for each object, and the
    objects overlap the ground truth (measured: mean IoU 0.85 over these frames with the shipped weights, 0.05 with
    random ones)."""
    from aot_plus.data.synthetic import main as synthetic_main
    from aot_plus.inference.predictor import VideoPredictor

    ckpt = REPO / "checkpoints" / "demo" / "aott_synthetic_demo.pth"
    assert ckpt.stat().st_size <= 15 * 2 ** 20
    data = tmp_path / "data"
    args = (REPO / "checkpoints" / "demo" / "data.args").read_text().split()
    assert synthetic_main(["--out", str(data), "--only", "val", *args]) == 0
    seq = (data / "ImageSets" / "val.txt").read_text().split()[0]
    frames = sorted((data / "JPEGImages_10fps" / seq).glob("*.jpg"))[:30]
    truth = {p.stem: np.array(Image.open(p)) for p in (data / "Annotations" / seq).glob("*.png")}
    first = truth[frames[0].stem]
    objects = [int(i) for i in np.unique(first) if i > 0]
    assert objects

    predictor = VideoPredictor.from_config(REPO / "configs" / "vost" / "aott_synthetic.yaml", ckpt, device="cpu")
    assert next(iter(predictor.model.state_dict().values())).dtype == torch.float32
    with predictor:
        predictor.init_state([np.array(Image.open(p).convert("RGB")) for p in frames])
        predictor.add_label_map(0, first)
        outputs = {out.frame_idx: out.label for out in predictor.propagate_in_video()}
    assert sorted(outputs) == list(range(len(frames)))
    ious = []
    for index, path in enumerate(frames[1:], start=1):
        if path.stem not in truth:
            continue
        for obj in objects:
            gt, pred = truth[path.stem] == obj, outputs[index] == obj
            if gt.any():
                assert pred.any(), f"object {obj} has no pixel at frame {path.name}"
                ious.append((gt & pred).sum() / (gt | pred).sum())
    assert len(ious) >= 10
    assert float(np.mean(ious)) >= 0.5, ious
