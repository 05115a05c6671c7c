"""Shared fixtures of the inference tests: a tiny synthetic VOST dataset and a random-weights AOT-T checkpoint."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

from aot_plus.config import load_config
from aot_plus.data.synthetic import generate_dataset
from aot_plus.models import build_model

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "models" / "rmem_aott.yaml"
#: Overrides every test run uses: FIFO memory, one CPU thread (the tests run beside others on 2 cores).
BASE_OVERRIDES = ("memory=fifo", "eval.device=cpu", "eval.num_threads=1", "eval.writer_threads=1")
HEIGHT, WIDTH = 65, 97


@pytest.fixture(scope="session")
def vost_root(tmp_path_factory) -> Path:
    """Three val sequences (plus one train) of 6 frames at 97x65 in the VOST layout."""
    root = tmp_path_factory.mktemp("inference_data") / "VOST"
    generate_dataset(root, sequences=4, frames=6, seed=3, height=HEIGHT, width=WIDTH, val_fraction=0.75)
    return root


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """A ``{'state_dict': ...}`` file of the VOST-layout AOT-T with seeded random weights."""
    cfg = load_config(CONFIG)
    torch.manual_seed(7)
    model = build_model(cfg.model)
    path = tmp_path_factory.mktemp("inference_ckpt") / "aott_random.pth"
    torch.save({"state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="session")
def experiment():
    """The loaded experiment config used by the in-process tests."""
    return load_config(CONFIG, BASE_OVERRIDES)


def subprocess_env() -> dict[str, str]:
    """Environment for CLI subprocesses: the repository importable, one thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"
    return env


PYTHON = sys.executable
