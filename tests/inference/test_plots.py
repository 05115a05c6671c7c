"""``python -m aot_plus.eval --plots``: memory timelines (JSON + PNG) and J-over-time PNGs per sequence."""
from __future__ import annotations

import pytest

from aot_plus.eval import main
from aot_plus.inference.plots import read_timeline

from .conftest import BASE_OVERRIDES, CONFIG


def test_plots_flag_writes_timelines_and_j_plots(vost_root, checkpoint, tmp_path):
    out = tmp_path / "results"
    args = ["--config", str(CONFIG), "--dataset", "vost", "--ckpt", str(checkpoint), "--output", str(out),
            "--dataset-path", str(vost_root), "--plots", *BASE_OVERRIDES, "memory.max_recent_frames=2",
            "memory.long_term_gap=1"]
    assert main(args) == 0
    names = (vost_root / "ImageSets" / "val.txt").read_text().split()
    for name in names:
        policy, timeline = read_timeline(out / "plots" / f"{name}_memory.json")
        assert policy == "fifo"
        assert len(timeline) == 6  # one entry per frame, frame 0 included
        assert timeline[0] == [0]
        # gap 1, reference + 2 recent: every frame enters, FIFO keeps frame 0 and the two newest
        assert timeline[1] == [0, 1]
        assert timeline[-1] == [0, 4, 5]
        for suffix in ("_memory.png", "_J.png"):
            path = out / "plots" / f"{name}{suffix}"
            assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def test_plots_off_by_default(vost_root, checkpoint, tmp_path):
    out = tmp_path / "results"
    args = ["--config", str(CONFIG), "--dataset", "vost", "--ckpt", str(checkpoint), "--output", str(out),
            "--dataset-path", str(vost_root), *BASE_OVERRIDES, "eval.metric=none"]
    assert main(args) == 0
    assert not (out / "plots").exists()


def test_bad_timeline_file_is_one_clear_error(tmp_path):
    path = tmp_path / "x_memory.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="x_memory.json"):
        read_timeline(path)
