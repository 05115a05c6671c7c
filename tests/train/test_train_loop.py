"""End-to-end training on the synthetic dataset (AOT-T, CPU): learning, exact resume, DDP with gloo, CLI errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from aot_plus.config import load_config
from aot_plus.models.checkpoint import load_checkpoint_file
from aot_plus.train.__main__ import main
from aot_plus.train.checkpoint import list_steps
from aot_plus.train.loop import train

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC_CONFIG = ROOT / "configs" / "vost" / "aott_synthetic.yaml"


def _metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "log" / "metrics.jsonl").read_text().splitlines()]


def test_loss_decreases_over_50_steps(synthetic_root, fast_overrides, tmp_path):
    run = tmp_path / "run"
    overrides = fast_overrides(synthetic_root, run, 50) + [
        "train.lr=0.001", "train.lr_warmup_ratio=0.1", "train.top_k_percent_pixels=1.0",
        "train.seq_training_start_ratio=1.0", "train.save_every=1000", "train.log_every=10",
        "data.clip.merge_prob=0.0", "data.clip.reverse_prob=0.0", "data.augment.flip_prob=0.0",
        "data.augment.min_scale=0.6", "data.augment.max_scale=0.6"]
    result = train(load_config(SYNTHETIC_CONFIG, overrides))
    rows = _metrics(run)
    assert [r["step"] for r in rows] == list(range(1, 51)) and len(result.losses) == 50
    first = sum(r["pred_loss"] for r in rows[:10]) / 10
    last = sum(r["pred_loss"] for r in rows[-10:]) / 10
    assert last < 0.85 * first, (first, last)
    assert rows[0]["aux_weight"] == 1.0 and rows[-1]["aux_weight"] < 0.03
    clip = len(rows[0]["frame_cross_entropy"])  # per-frame loss terms, frame 0 = the reference (auxiliary) frame
    assert clip >= 3 and all(len(r["frame_cross_entropy"]) == len(r["frame_jaccard"]) == clip for r in rows)
    assert all(0.0 <= j <= 1.0 for r in rows for j in r["frame_jaccard"])
    assert rows[0]["lr"] < rows[4]["lr"] and rows[-1]["lr"] < rows[10]["lr"]
    log_text = (run / "log" / "train.log").read_text()
    assert log_text.count("ETA") == 5 and "peak mem" in log_text
    ema = load_checkpoint_file(run / "ema" / "step_0000050.pth")
    live = torch.load(run / "ckpt" / "step_0000050.pt", weights_only=False)["model"]
    assert ema.keys() == live.keys()
    assert not torch.equal(ema["decoder.conv_out.weight"], live["decoder.conv_out.weight"])
    # the from-scratch recipe trains the whole encoder, stem included, and its BatchNorm statistics
    assert not torch.equal(ema["encoder.features.0.0.weight"], live["encoder.features.0.0.weight"])


def test_stop_and_resume_gives_identical_losses(synthetic_root, fast_overrides, tmp_path):
    common = fast_overrides(synthetic_root, tmp_path / "x", 6) + ["train.save_every=3", "train.keep_last=1",
                                                                  "train.log_every=2"]
    straight = train(load_config(SYNTHETIC_CONFIG, common + [f"train.output_dir={tmp_path / 'a'}"]))
    part = load_config(SYNTHETIC_CONFIG, common + [f"train.output_dir={tmp_path / 'b'}", "train.stop_at_step=3"])
    first = train(part)
    assert first.end_step == 3 and [s for s, _ in list_steps(tmp_path / "b" / "ckpt")] == [3]
    resumed = train(load_config(SYNTHETIC_CONFIG, common + [f"train.output_dir={tmp_path / 'b'}"]), resume="auto")
    assert resumed.start_step == 3 and resumed.end_step == 6
    assert first.losses + resumed.losses == straight.losses  # bit-identical, step by step
    assert resumed.weights_digest == straight.weights_digest
    ema_a = load_checkpoint_file(tmp_path / "a" / "ema" / "step_0000006.pth")
    ema_b = load_checkpoint_file(tmp_path / "b" / "ema" / "step_0000006.pth")
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)


def test_torchrun_two_processes_keep_identical_weights(synthetic_root, fast_overrides, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(Path(__file__).parent / "ddp_driver.py"), str(tmp_path), str(SYNTHETIC_CONFIG),
               *fast_overrides(synthetic_root, tmp_path / "run", 3), "train.log_every=1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["end_step"] == ranks[1]["end_step"] == 3
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert len(ranks[0]["losses"]) == 3 and all(v > 0 for v in ranks[0]["losses"])
    state = torch.load(tmp_path / "run" / "ckpt" / "step_0000003.pt", weights_only=False)
    assert state["world_size"] == 2 and len(state["rng"]) == 2  # every rank's random state is saved


def test_start_up_errors_exit_2_with_one_line(synthetic_root, tmp_path, capsys):
    base = ["--config", str(SYNTHETIC_CONFIG), f"data.vost.root={synthetic_root}", f"train.output_dir={tmp_path}"]
    try:
        main(base + ["train.lrr=0.1"])
        raise AssertionError("a bad key must stop the run")
    except SystemExit as stop:
        assert stop.code == 2
    assert "unknown config key 'train.lrr'" in capsys.readouterr().err
    cases = {"VOST dataset folder": [f"data.vost.root={tmp_path / 'nowhere'}"],
             "train.pretrained: file not found": [f"train.pretrained={tmp_path / 'missing.pth'}"]}
    for message, extra in cases.items():
        assert main(base + extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert main(base + ["--resume", str(tmp_path / "nothing.pt")]) == 2
    assert "resume checkpoint not found" in capsys.readouterr().err


def test_killed_run_resumes_with_identical_losses(synthetic_root, fast_overrides, tmp_path):
    steps = 10
    common = fast_overrides(synthetic_root, tmp_path / "x", steps) + ["train.save_every=2", "train.log_every=1"]
    straight = train(load_config(SYNTHETIC_CONFIG, common + [f"train.output_dir={tmp_path / 'a'}"]))
    run = tmp_path / "b"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "aot_plus.train", "--config", str(SYNTHETIC_CONFIG), *common,
               f"train.output_dir={run}"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not (run / "ckpt" / "step_0000004.pt").exists() and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.02)
    finally:
        process.kill()  # SIGKILL: no clean-up code runs
        process.wait()
    killed_at = list_steps(run / "ckpt")[-1][0]
    resumed = train(load_config(SYNTHETIC_CONFIG, common + [f"train.output_dir={run}"]), resume="auto")
    assert resumed.start_step == killed_at and resumed.end_step == steps
    assert resumed.losses == straight.losses[killed_at:]
    assert resumed.weights_digest == straight.weights_digest
    by_step: dict[int, set[float]] = {}
    for row in _metrics(run):  # rows of the killed run and of the resumed one
        by_step.setdefault(row["step"], set()).add(row["loss"])
    assert all(len(values) == 1 for values in by_step.values())
    assert [next(iter(by_step[s])) for s in range(1, steps + 1)] == list(straight.losses)
