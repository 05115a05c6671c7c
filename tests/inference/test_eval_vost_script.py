"""Tests of eval_vost.sh: the six seed rows map to the right model config, memory file and reference settings."""
from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import REPO

# One memory file per policy for both families: its family-dependent constants are resolved from the model config.
ROWS = [("r50_aotl", "rmem"), ("r50_deaotl", "rmem"), ("r50_aotl", "fifo"), ("r50_aotl", "emfs"),
        ("r50_deaotl", "fifo"), ("r50_deaotl", "emfs")]


def _run(tmp_path, **env_vars) -> subprocess.CompletedProcess:
    env = dict(os.environ, DRY_RUN="1", DATASET_PATH=str(tmp_path / "VOST"), PYTHON="py", **env_vars)
    return subprocess.run(["bash", str(REPO / "eval_vost.sh")], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("model,memory", ROWS)
def test_seed_rows(tmp_path, model, memory):
    ckpt = tmp_path / "model.pth"
    ckpt.write_bytes(b"x")
    done = _run(tmp_path, MODEL=model, MEMORY=memory, CKPT=str(ckpt), GPUS="4")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:6] == ["py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "4"]
    assert f"{REPO}/configs/models/rmem_{model}.yaml" in words
    for expected in (f"memory={memory}", "memory.reference_frames=1", "memory.max_recent_frames=8",
                     "eval.flip=false", "eval.max_long_side=1040", "eval.amp=false", "eval.device=cuda",
                     "vost", "val", str(ckpt)):
        assert expected in words, expected
    assert (REPO / "configs" / "memory" / f"{memory}.yaml").is_file()


def test_cpu_run_and_bad_variables(tmp_path):
    ckpt = tmp_path / "model.pth"
    ckpt.write_bytes(b"x")
    done = _run(tmp_path, MODEL="r50_aotl", MEMORY="unbounded", CKPT=str(ckpt), GPUS="0")
    assert done.returncode == 0 and done.stdout.split()[:3] == ["py", "-m", "aot_plus.eval"]
    assert "eval.device=cpu" in done.stdout and "memory.max_recent_frames=8" not in done.stdout
    bad = _run(tmp_path, MODEL="r50_aotl", MEMORY="lru", CKPT=str(ckpt))
    assert bad.returncode == 2 and "MEMORY must be" in bad.stderr
    missing = _run(tmp_path, MODEL="r50_aotl", MEMORY="fifo", CKPT=str(tmp_path / "none.pth"))
    assert missing.returncode == 2 and "none.pth does not exist" in missing.stderr
