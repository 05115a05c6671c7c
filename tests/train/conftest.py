"""Shared fixtures of the trainer tests: a small synthetic VOST-style dataset and fast CPU overrides."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from aot_plus.data.synthetic import generate_dataset


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    """Two training and two validation sequences of 16 frames at 128 x 96."""
    root = tmp_path_factory.mktemp("synthetic") / "vost"
    generate_dataset(root, sequences=4, frames=16, seed=1, height=96, width=128, val_fraction=0.5)
    return root


def _fast_overrides(data_root: Path, output_dir: Path, steps: int) -> list[str]:
    return [f"data.vost.root={data_root}", f"train.output_dir={output_dir}", f"train.total_steps={steps}",
            "train.device=cpu", "train.num_threads=1", "train.deterministic=true", "train.progress=false",
            "data.augment.crop_size=[65, 65]", "data.num_workers=0"]


@pytest.fixture(scope="session")
def fast_overrides() -> Callable[[Path, Path, int], list[str]]:
    """``f(data_root, output_dir, steps)``: overrides of configs/vost/aott_synthetic.yaml for fast CPU runs (AOT-T on
    65 x 65 crops, batch 2, 5-frame clips, one thread, deterministic, no workers, no progress bar)."""
    return _fast_overrides
