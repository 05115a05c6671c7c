"""scripts/sweep_vost.sh: the policy presets and the grid reach aot_plus.sweep with eval_vost.sh's settings."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path, **env_vars) -> subprocess.CompletedProcess:
    ckpt = tmp_path / "model.pth"
    ckpt.write_bytes(b"x")
    env = dict(os.environ, DRY_RUN="1", PYTHON="py", CKPT=str(ckpt), **env_vars)
    return subprocess.run(["bash", str(REPO / "scripts" / "sweep_vost.sh")], env=env, capture_output=True,
                          text=True, timeout=60)


def test_default_grid_on_gpus(tmp_path):
    done = _run(tmp_path, MODEL="r50_deaotl", GPUS="2")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:7] == ["py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m"]
    assert words[7] == "aot_plus.sweep"
    assert r"memory=fifo\,rmem\,random\,drop_oldest_any\,drop_newest" in words
    assert r"memory.max_recent_frames=3\,5\,8\,12\,20" in words and "eval.device=cuda" in words


def test_cpu_run_and_bad_policy(tmp_path):
    done = _run(tmp_path, MODEL="r50_aotl", GPUS="0", POLICIES="rmem,emfs", SIZES="2,4")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:3] == ["py", "-m", "aot_plus.sweep"] and "eval.device=cpu" in words
    assert r"memory=rmem\,emfs" in words and r"memory.max_recent_frames=2\,4" in words
    bad = _run(tmp_path, POLICIES="fifo,nope")
    assert bad.returncode == 2 and "configs/memory/nope.yaml" in bad.stderr
