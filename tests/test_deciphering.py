"""``python -m aot_plus.deciphering`` on a tiny synthetic dataset: a J for every requested bank size."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from aot_plus.config import load_config
from aot_plus.data.synthetic import generate_dataset
from aot_plus.deciphering import bank_frames, main
from aot_plus.models import build_model

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "models" / "rmem_aott.yaml"


def test_bank_frames_spread_and_end_at_the_target():
    annotated = [0, 2, 4, 6, 8, 10]
    assert bank_frames(annotated, 1) == [10]
    assert bank_frames(annotated, 2) == [0, 10]
    assert bank_frames(annotated, 3) == [0, 8, 10]
    assert bank_frames(annotated, 6) == annotated
    with pytest.raises(ValueError, match="bank size 7"):
        bank_frames(annotated, 7)


def test_cli_scores_every_bank_size(tmp_path, capsys):
    root = tmp_path / "VOST"
    generate_dataset(root, sequences=2, frames=7, seed=6, height=65, width=97, val_fraction=0.5)
    torch.manual_seed(2)
    ckpt = tmp_path / "aott.pth"
    torch.save({"state_dict": build_model(load_config(CONFIG).model).state_dict()}, ckpt)
    out = tmp_path / "study"
    argv = ["--config", str(CONFIG), "--dataset", "vost", "--split", "val", "--ckpt", str(ckpt), "--output",
            str(out), "--dataset-path", str(root), "--sizes", "4", "1", "2", "eval.device=cpu",
            "eval.num_threads=1"]
    assert main(argv) == 0
    with open(out / "deciphering.csv") as handle:
        rows = list(csv.DictReader(handle))
    names = (root / "ImageSets" / "val.txt").read_text().split()
    assert sorted((r["sequence"], int(r["bank_size"])) for r in rows) == sorted(
        (name, n) for name in names for n in (1, 2, 4))
    assert all(0.0 <= float(r["J"]) <= 1.0 for r in rows)
    summary = json.loads((out / "deciphering.json").read_text())
    assert summary["bank_sizes"] == [1, 2, 4] and len(summary["mean_J"]) == 3
    for n, mean in zip((1, 2, 4), summary["mean_J"]):
        assert mean == pytest.approx(sum(float(r["J"]) for r in rows if int(r["bank_size"]) == n) / len(names),
                                     abs=1e-6)
    assert (out / "deciphering.png").stat().st_size > 0
    assert "| 4 |" in capsys.readouterr().out

    assert main(argv[:-4] + ["--sizes", "5", "eval.device=cpu"]) == 2  # 7 frames carry 4 annotations
    assert "has 4 annotated frames" in capsys.readouterr().err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("keep")
    assert main([*argv[:9], str(tmp_path / "other"), *argv[10:]]) == 2
    assert "did not write" in capsys.readouterr().err and (tmp_path / "other" / "notes.txt").read_text() == "keep"
