"""scripts/eval_benchmark.sh: each benchmark's config, dataset name and split; VOST equals eval_vost.sh."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from aot_plus.config import load_config, to_dict

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "eval_benchmark.sh"


def _run(tmp_path: Path, **env_vars: str) -> subprocess.CompletedProcess:
    ckpt = tmp_path / "model.pth"
    ckpt.write_bytes(b"x")
    env = dict(os.environ, DRY_RUN="1", PYTHON="py", CKPT=str(ckpt), **env_vars)
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("benchmark,dataset,split", [("vost", "vost", "val"), ("davis2017", "davis", "val"),
                                                     ("youtubevos", "youtubevos", "valid"), ("lvos", "lvos", "valid"),
                                                     ("long_videos", "long_videos", "val")])
def test_benchmark_rows(tmp_path: Path, benchmark: str, dataset: str, split: str) -> None:
    done = _run(tmp_path, BENCHMARK=benchmark, MODEL="r50_aotl", MEMORY="rmem", GPUS="2")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:6] == ["py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    config = REPO / "configs" / "benchmarks" / f"{benchmark}.yaml"
    assert str(config) in words and config.is_file()
    for expected in ("model=rmem_r50_aotl", "memory=rmem", "memory.max_recent_frames=8", "eval.device=cuda"):
        assert expected in words, expected
    assert words[words.index("--dataset") + 1] == dataset and words[words.index("--split") + 1] == split
    assert f"./results/{benchmark}_r50_aotl_rmem_model" in words
    cfg = load_config(config, ["model=rmem_r50_aotl", "memory=rmem"])
    assert cfg.eval.max_long_side == 1040 and cfg.eval.scales == (1.0,) and not cfg.eval.flip


def test_vost_row_resolves_to_the_eval_vost_settings() -> None:
    ours = load_config(REPO / "configs" / "benchmarks" / "vost.yaml", ["model=rmem_r50_deaotl", "memory=rmem"])
    theirs = load_config(REPO / "configs" / "models" / "rmem_r50_deaotl.yaml",
                         ["memory=rmem", "eval.scales=[1.0]", "eval.flip=false", "eval.max_long_side=1040",
                          "eval.amp=false"])
    assert to_dict(ours) == to_dict(theirs)


def test_lvos_unseen_list_and_bad_values(tmp_path: Path) -> None:
    done = _run(tmp_path, BENCHMARK="lvos", UNSEEN_LIST="/data/unseen_videos.txt", DATASET_PATH="/data/LVOS_v2",
                GPUS="0")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:3] == ["py", "-m", "aot_plus.eval"] and "eval.device=cpu" in words
    assert "data.lvos.unseen_list=/data/unseen_videos.txt" in words
    assert words[words.index("--dataset-path") + 1] == "/data/LVOS_v2"
    bad = _run(tmp_path, BENCHMARK="mose")
    assert bad.returncode == 2 and "BENCHMARK must be" in bad.stderr
    misplaced = _run(tmp_path, BENCHMARK="vost", UNSEEN_LIST="x.txt")
    assert misplaced.returncode == 2 and "UNSEEN_LIST applies to BENCHMARK=lvos only" in misplaced.stderr
