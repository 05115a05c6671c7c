"""CUDA training (marked ``cuda``, skipped without a GPU; scripts/gpu_check.sh runs them): AMP fp16 and bf16
steps on the synthetic data, and a one-process torchrun with an NCCL process group and a DDP step (the trainer
itself joins a process group only with more than one process)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aot_plus.config import load_config
from aot_plus.models.checkpoint import load_checkpoint_file
from aot_plus.train.loop import train

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC_CONFIG = ROOT / "configs" / "vost" / "aott_synthetic.yaml"

pytestmark = pytest.mark.cuda


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_amp_training_steps_on_cuda(synthetic_root, fast_overrides, tmp_path, dtype):
    run = tmp_path / "run"
    overrides = fast_overrides(synthetic_root, run, 4) + [
        "train.device=cuda", "train.amp=true", f"train.amp_dtype={dtype}", "train.deterministic=false",
        "train.save_every=4", "train.log_every=1", "train.seq_training_start_ratio=0.5"]
    result = train(load_config(SYNTHETIC_CONFIG, overrides))
    assert len(result.losses) == 4 and all(math.isfinite(v) and v > 0 for v in result.losses), result.losses
    weights = torch.load(run / "ckpt" / "step_0000004.pt", weights_only=False)["model"]
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())
    ema = load_checkpoint_file(run / "ema" / "step_0000004.pth")
    assert ema.keys() == weights.keys()


def test_torchrun_one_process_with_nccl(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1",
               str(Path(__file__).parent / "nccl_driver.py"), str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "rank0.json").read_text())
    assert result == {"backend": "nccl", "all_reduce": 1.0, "grads_finite": True, "world_size": 1}
