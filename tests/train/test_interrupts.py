"""Ctrl-C / SIGTERM during training: the current step is saved, ``--resume auto`` continues the same trajectory;
``--resume auto`` refuses a changed config and a fresh start refuses a folder holding another run's checkpoints."""
from __future__ import annotations

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
from aot_plus.interrupts import Interrupted
from aot_plus.train import loop
from aot_plus.train.__main__ import main
from aot_plus.train.checkpoint import list_steps

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC_CONFIG = ROOT / "configs" / "vost" / "aott_synthetic.yaml"


def test_sigint_saves_current_step_and_resume_is_identical(synthetic_root, fast_overrides, tmp_path, monkeypatch):
    common = fast_overrides(synthetic_root, tmp_path / "x", 6) + ["train.save_every=4", "train.log_every=1"]
    straight = loop.train(load_config(SYNTHETIC_CONFIG, common + [f"train.output_dir={tmp_path / 'a'}"]))
    real_schedule = loop.apply_schedule

    def schedule_then_ctrl_c(optimizer, step, tc):
        if step == 2:  # Ctrl-C during step 3 (steps count from 1 once done)
            os.kill(os.getpid(), signal.SIGINT)
        return real_schedule(optimizer, step, tc)

    monkeypatch.setattr(loop, "apply_schedule", schedule_then_ctrl_c)
    cfg = load_config(SYNTHETIC_CONFIG, common + [f"train.output_dir={tmp_path / 'b'}"])
    with pytest.raises(Interrupted, match=r"interrupted by SIGINT at step 3; checkpoint .*step_0000003.pt"):
        loop.train(cfg)
    assert [s for s, _ in list_steps(tmp_path / "b" / "ckpt")] == [3]  # saved although save_every is 4
    monkeypatch.setattr(loop, "apply_schedule", real_schedule)
    resumed = loop.train(cfg, resume="auto")
    assert resumed.start_step == 3 and resumed.losses == straight.losses[3:]
    assert resumed.weights_digest == straight.weights_digest


def test_resume_auto_refuses_changed_config_and_fresh_start_refuses_used_folder(synthetic_root, fast_overrides,
                                                                                 tmp_path, capsys):
    run = tmp_path / "run"
    base = ["--config", str(SYNTHETIC_CONFIG), *fast_overrides(synthetic_root, run, 2)]
    assert main(base) == 0
    assert main(base + ["train.total_steps=4", "train.lr=0.002", "--resume", "auto"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: --resume auto: ") and "train.lr: " in err and "-> 0.002" in err
    assert "train.output_dir" in err and "--resume PATH" in err
    assert main(base) == 2  # a fresh start would prune the run's checkpoints
    assert "already holds checkpoints" in capsys.readouterr().err
    assert main(base + ["train.total_steps=2", "train.log_every=5", "--resume", "auto"]) == 0  # reporting keys only
    assert [s for s, _ in list_steps(run / "ckpt")] == [2]


def test_checkpoints_and_config_follow_the_umask(synthetic_root, fast_overrides, tmp_path):
    previous = os.umask(0o022)
    try:
        loop.train(load_config(SYNTHETIC_CONFIG, fast_overrides(synthetic_root, tmp_path / "run", 1)))
    finally:
        os.umask(previous)
    for path in [tmp_path / "run" / "config.yaml", *(tmp_path / "run" / "ckpt").iterdir(),
                 *(tmp_path / "run" / "ema").iterdir()]:
        assert path.stat().st_mode & 0o777 == 0o644, path


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def _torchrun(run: Path, overrides: list[str], *extra: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
            "aot_plus.train", "--config", str(SYNTHETIC_CONFIG), *overrides, f"train.output_dir={run}", *extra]


def _logged_steps(run: Path) -> int:
    try:
        return len((run / "log" / "metrics.jsonl").read_text().splitlines())
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_torchrun_sigterm_then_resume_auto_gives_identical_weights(synthetic_root, fast_overrides, tmp_path):
    steps = 6
    overrides = fast_overrides(synthetic_root, tmp_path / "x", steps) + ["train.save_every=100", "train.log_every=1"]
    straight = subprocess.run(_torchrun(tmp_path / "a", overrides), env=_env(), capture_output=True, text=True,
                              timeout=600)
    assert straight.returncode == 0, straight.stderr[-3000:]
    run = tmp_path / "b"
    process = subprocess.Popen(_torchrun(run, overrides), env=_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while _logged_steps(run) < 2:  # no checkpoint yet: they are saved only at the end (save_every=100)
            assert process.poll() is None and time.monotonic() < deadline, "training did not start"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)  # what a cluster scheduler sends to pre-empt the job
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    saved = list_steps(run / "ckpt")
    assert len(saved) == 1 and 2 <= saved[0][0] < steps, stderr[-3000:]  # the step it stopped at
    assert f"interrupted by SIGTERM at step {saved[0][0]}; checkpoint {saved[0][1]}" in stderr
    assert "continue with --resume auto" in stderr
    # torchrun itself prints a traceback for the signal it got; the training ranks print none
    assert not [line for line in stderr.splitlines() if line.strip().startswith("File") and "aot_plus" in line]
    resumed = subprocess.run(_torchrun(run, overrides, "--resume", "auto"), env=_env(), capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    final_a = torch.load(tmp_path / "a" / "ckpt" / f"step_{steps:07d}.pt", weights_only=False)
    final_b = torch.load(run / "ckpt" / f"step_{steps:07d}.pt", weights_only=False)
    assert final_a["model"].keys() == final_b["model"].keys()
    assert all(torch.equal(final_a["model"][k], final_b["model"][k]) for k in final_a["model"])
    losses = {}
    for folder in (tmp_path / "a", run):
        rows = [json.loads(line) for line in (folder / "log" / "metrics.jsonl").read_text().splitlines()]
        losses[folder.name] = {row["step"]: row["loss"] for row in rows}
    assert losses["a"] == losses["b"]  # the same loss at every step, before and after the interruption


def test_run_folder_with_other_files_or_inside_the_data_is_refused(synthetic_root, fast_overrides, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.yaml").write_text("my own notes")
    (mine / "paper.tex").write_text("precious")
    base = ["--config", str(SYNTHETIC_CONFIG), *fast_overrides(synthetic_root, mine, 1)]
    assert main(base) == 2
    assert "holds files this tool did not write (paper.tex)" in capsys.readouterr().err
    assert (mine / "config.yaml").read_text() == "my own notes"
    inside = ["--config", str(SYNTHETIC_CONFIG), *fast_overrides(synthetic_root, synthetic_root / "run", 1)]
    assert main(inside) == 2
    assert "overlaps the input" in capsys.readouterr().err and not (synthetic_root / "run").exists()
