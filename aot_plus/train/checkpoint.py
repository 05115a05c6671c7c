"""Training checkpoints: everything needed to continue a run exactly, written atomically, the newest K kept.

Layout of a run folder::

    ckpt/step_0000500.pt     training state (below), one per save
    ema/step_0000500.pth     EMA weights as a released model file ({'state_dict': ...}), for evaluation
    config.yaml              the resolved config of the run

A training state is a dict with ``format``, ``step``, ``model`` (live weights), ``ema`` (shadow state or None),
``optimizer``, ``scaler``, ``rng`` (one entry per rank: Python, NumPy, torch CPU and CUDA generator states),
``sampler`` (seed, layout and epoch/batch position of the data order), ``world_size`` and ``config`` (resolved
YAML text). Files are written to a temporary name and renamed, so a
killed run never leaves a half-written checkpoint; file names are parsed strictly, so other files in the
folders are left alone.
"""
from __future__ import annotations

import logging
import random
import re
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch

from aot_plus.models.checkpoint import save_checkpoint

log = logging.getLogger(__name__)

FORMAT = "aot_plus.train/1"
CKPT_DIR = "ckpt"
EMA_DIR = "ema"
_NAME = re.compile(r"^step_(\d+)\.(pt|pth)$")


class ResumeError(RuntimeError):
    """A checkpoint that cannot be resumed from (missing file, wrong content)."""


def checkpoint_path(run_dir: Union[str, Path], step: int) -> Path:
    """Path of the training checkpoint of ``step``."""
    return Path(run_dir) / CKPT_DIR / f"step_{step:07d}.pt"


def ema_path(run_dir: Union[str, Path], step: int) -> Path:
    """Path of the exported EMA model file of ``step``."""
    return Path(run_dir) / EMA_DIR / f"step_{step:07d}.pth"


def list_steps(folder: Union[str, Path]) -> list[tuple[int, Path]]:
    """``(step, path)`` of the checkpoint files in ``folder``, oldest first (other files are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(run_dir: Union[str, Path]) -> Optional[Path]:
    """The newest training checkpoint of a run, or None when there is none."""
    steps = list_steps(Path(run_dir) / CKPT_DIR)
    return steps[-1][1] if steps else None


def prune(folder: Union[str, Path], keep_last: int) -> None:
    """Delete all but the ``keep_last`` newest checkpoint files of ``folder``."""
    for _, path in list_steps(folder)[:-keep_last]:
        path.unlink(missing_ok=True)


def capture_rng_state() -> dict[str, Any]:
    """This process's generator states: Python ``random``, NumPy's global generator, torch CPU and CUDA."""
    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def save_training_state(run_dir: Union[str, Path], step: int, state: dict[str, Any], keep_last: int) -> Path:
    """Write a training state atomically and keep only the ``keep_last`` newest ones."""
    path = save_checkpoint(checkpoint_path(run_dir, step), {"format": FORMAT, "step": step, **state})
    prune(path.parent, keep_last)
    return path


def save_ema_weights(run_dir: Union[str, Path], step: int, weights: dict[str, torch.Tensor],
                     keep_last: int) -> Path:
    """Write EMA weights as a released-layout model file ``{'state_dict': ...}`` and prune old ones."""
    path = save_checkpoint(ema_path(run_dir, step), {"state_dict": weights, "step": step})
    prune(path.parent, keep_last)
    return path


def load_training_state(path: Union[str, Path]) -> dict[str, Any]:
    """Read a training state written by :func:`save_training_state` onto the CPU.

    Raises:
        ResumeError: the file is missing or is not a training checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ResumeError(f"resume checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError) as err:
        raise ResumeError(f"{path}: not a readable checkpoint ({err})") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ResumeError(f"{path}: not an aot_plus training checkpoint (expected format {FORMAT!r}; "
                          "use train.pretrained to start from a model file)")
    return state
