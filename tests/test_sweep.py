"""``python -m aot_plus.sweep``: a 2 x 2 grid on tiny synthetic data, killed after its first point and resumed."""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from aot_plus.config import load_config
from aot_plus.data.synthetic import generate_dataset
from aot_plus.models import build_model
from aot_plus.sweep import Axis, Point, cfg_of, grid, main, markdown_table, numeric_axis

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "models" / "rmem_aott.yaml"
AXES = ["--axis", "memory=fifo,drop_newest", "--axis", "memory.max_recent_frames=1,2"]
BASE = ["eval.device=cpu", "eval.num_threads=1", "eval.writer_threads=1", "memory.long_term_gap=1"]


@pytest.fixture(scope="module")
def data_and_checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep_data") / "VOST"
    generate_dataset(root, sequences=2, frames=5, seed=4, height=65, width=97, val_fraction=0.5)
    torch.manual_seed(5)
    ckpt = root.parent / "aott_random.pth"
    torch.save({"state_dict": build_model(load_config(CONFIG).model).state_dict()}, ckpt)
    return root, ckpt


def _argv(root: Path, ckpt: Path, out: Path, *extra: str) -> list[str]:
    return ["--config", str(CONFIG), "--dataset", "vost", "--split", "val", "--ckpt", str(ckpt), "--output",
            str(out), "--dataset-path", str(root), *AXES, *BASE, *extra]


def test_axes_and_grid():
    axes = [Axis.parse("memory=fifo,rmem"), Axis.parse("memory.max_recent_frames=3,8")]
    points = grid(axes)
    assert [p.overrides for p in points] == [
        ("memory=fifo", "memory.max_recent_frames=3"), ("memory=fifo", "memory.max_recent_frames=8"),
        ("memory=rmem", "memory.max_recent_frames=3"), ("memory=rmem", "memory.max_recent_frames=8")]
    assert points[1].name == "memory=fifo__memory.max_recent_frames=8" and points[1].value("memory") == "fifo"
    assert numeric_axis(axes) is axes[1]
    for bad in ("memory", "memory=", "memory=a,,b", "memory=a,a", "1x=2"):
        with pytest.raises(ValueError, match="--axis"):
            Axis.parse(bad)
    with pytest.raises(ValueError, match="twice"):
        grid([axes[0], axes[0]])
    with pytest.raises(ValueError, match="share a folder name"):
        grid([Axis.parse("eval.scales=[1.0],(1.0)")])
    row = {"memory": "fifo", "J_tr": 0.5, "J": 0.25, "peak_memory_bytes": 1 << 30, "frames_per_second": 3.0}
    table = markdown_table(axes[:1], [row, {**row, "memory": "rmem", "J": None}], "peak RSS")
    assert table.splitlines()[2] == "| fifo | 50.0 | 25.0 | 1.00 | 3.00 |"
    assert table.splitlines()[3] == "| rmem | 50.0 | - | 1.00 | 3.00 |"


def test_base_overrides_survive_an_axis_that_selects_their_section():
    """``memory.long_term_gap=1`` on the command line holds at every point of ``--axis memory=fifo,...`` (the
    axis's later ``memory=fifo`` selection used to reset the whole memory section, gap included)."""
    base = argparse.Namespace(config=CONFIG, overrides=BASE)
    for policy in ("fifo", "drop_newest"):
        cfg = cfg_of(base, Point((f"memory={policy}", "memory.max_recent_frames=2")))
        assert cfg.memory.policy.name == policy and cfg.memory.max_recent_frames == 2
        assert (cfg.memory.long_term_gap.mode, cfg.memory.long_term_gap.value) == ("fixed", 1)


def test_killed_sweep_resumes_with_only_the_missing_points(data_and_checkpoint, tmp_path, caplog, capsys):
    root, ckpt = data_and_checkpoint
    out = tmp_path / "sweep"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "aot_plus.sweep", *_argv(root, ckpt, out)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    first = out / "points" / "memory=fifo__memory.max_recent_frames=1" / "point.json"
    deadline = time.monotonic() + 240
    while not first.is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert first.is_file(), process.stderr.read().decode()[-2000:]
    records = sorted(p.parent.name for p in (out / "points").glob("*/point.json"))
    assert records == [first.parent.name]  # killed after exactly one point
    stamp = first.stat().st_mtime_ns

    caplog.set_level("INFO", logger="aot_plus.sweep")
    assert main(_argv(root, ckpt, out)) == 0
    assert first.stat().st_mtime_ns == stamp  # the finished point was not recomputed
    messages = [r.getMessage() for r in caplog.records if r.name == "aot_plus.sweep"]
    assert sum("evaluating" in m for m in messages) == 3
    assert "3 point(s) computed by this process, 4 of 4 in the table" in messages[-1]
    with open(out / "sweep.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["memory"], r["memory.max_recent_frames"]) for r in rows] == [
        ("fifo", "1"), ("fifo", "2"), ("drop_newest", "1"), ("drop_newest", "2")]
    for row in rows:
        assert 0.0 <= float(row["J"]) <= 1.0 and 0.0 <= float(row["J_tr"]) <= 1.0
        assert float(row["frames_per_second"]) > 0 and int(row["peak_memory_bytes"]) > 0
        record = json.loads((out / "points" / row["point"] / "point.json").read_text())
        assert record["config"]["memory"]["policy"]["name"] == row["memory"]
        assert record["config"]["memory"]["max_recent_frames"] == int(row["memory.max_recent_frames"])
        assert record["checkpoint"]["sha256"] and record["checkpoint"]["size"] == ckpt.stat().st_size
    table = (out / "sweep.md").read_text().splitlines()
    assert len(table) == 6 and table[0].startswith("| memory | memory.max_recent_frames | J_tr | J |")
    assert (out / "sweep.png").stat().st_size > 0
    assert "Sweep table" in capsys.readouterr().out

    caplog.clear()
    assert main(_argv(root, ckpt, out)) == 0  # everything finished: nothing recomputed
    assert not any("evaluating" in r.getMessage() for r in caplog.records)
    assert first.stat().st_mtime_ns == stamp

    capsys.readouterr()
    assert main(_argv(root, ckpt, out, "eval.flip=true")) == 2  # other settings: refuse, never reuse
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "eval.flip" in err and len(err.strip().splitlines()) == 1


def test_refuses_a_folder_it_does_not_own(data_and_checkpoint, tmp_path, capsys):
    root, ckpt = data_and_checkpoint
    (tmp_path / "mine.txt").write_text("precious")
    assert main(_argv(root, ckpt, tmp_path)) == 2
    assert "did not write" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "precious"
    assert main(_argv(root, ckpt, tmp_path / "new", "--axis", "memory.max_recent_framez=1,2")) == 2
    assert "max_recent_framez" in capsys.readouterr().err and not (tmp_path / "new").exists()


def test_two_torchrun_ranks_take_alternate_points(data_and_checkpoint, tmp_path):
    root, ckpt = data_and_checkpoint
    out = tmp_path / "ranks"
    argv = [*_argv(root, ckpt, out)]
    argv[argv.index("memory.max_recent_frames=1,2")] = "memory.max_recent_frames=1"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "aot_plus.sweep", *argv], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[rank 0] point memory=fifo__memory.max_recent_frames=1: evaluating" in done.stderr
    assert "[rank 1] point memory=drop_newest__memory.max_recent_frames=1: evaluating" in done.stderr
    with open(out / "sweep.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["memory"] for r in rows] == ["fifo", "drop_newest"] and all(r["J"] for r in rows)
