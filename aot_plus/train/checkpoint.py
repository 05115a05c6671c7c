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
import yaml

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


#: Config entries a resumed run may change: where and how the run reports and finds its data, not what it computes
#: (prefixes of dotted names; any ``...root`` folder counts too).
RESUME_FREE_KEYS = ("train.output_dir", "train.stop_at_step", "train.progress", "train.log_every", "train.save_every",
                    "train.keep_last", "train.num_threads", "train.dist_timeout_s", "train.device", "train.pretrained",
                    "data.num_workers", "data.prefetch_factor", "eval.")


def resume_may_differ(name: str) -> bool:
    """True for a dotted config name a resumed run may change (see :data:`RESUME_FREE_KEYS`)."""
    return name.endswith("root") or any(name == key or name.startswith(key if key.endswith(".") else key + ".")
                                        for key in RESUME_FREE_KEYS)


def check_resume_config(path: Union[str, Path], cfg: Any) -> None:
    """Refuse ``--resume auto`` from a checkpoint written with other settings than ``cfg``.

    Only the entries in :data:`RESUME_FREE_KEYS` may differ. The checkpoint is memory-mapped, so checking it
    reads little more than its config text.

    Raises:
        ResumeError: the settings differ; the message lists what differs and how to choose.
    """
    from aot_plus.config import to_dict
    from aot_plus.io.ownership import key_differences

    try:
        stored = torch.load(path, map_location="cpu", weights_only=False, mmap=True).get("config")
    except (RuntimeError, EOFError, OSError, AttributeError) as err:
        raise ResumeError(f"{path}: not a readable checkpoint ({err})") from err
    if not stored:
        return
    diffs = key_differences(yaml.safe_load(stored) or {}, to_dict(cfg), ignore=resume_may_differ)
    if diffs:
        raise ResumeError(f"--resume auto: {path} was written with other settings ({'; '.join(diffs)}); use a new "
                          "train.output_dir for a new run, or --resume PATH to continue from that file with the new "
                          "settings on purpose")


def check_fresh_run_dir(run_dir: Union[str, Path]) -> None:
    """Refuse a fresh start in a run folder that already holds training checkpoints (they would be pruned).

    Raises:
        ResumeError: the folder holds checkpoints; the message says how to continue or start elsewhere.
    """
    latest = latest_checkpoint(run_dir)
    if latest is not None:
        raise ResumeError(f"run folder {run_dir} already holds checkpoints of a run (latest {latest.name}); pass "
                          "--resume auto to continue it, or choose another train.output_dir")


#: What a training run writes into its folder (an unmarked folder holding only these is a run's).
RUN_DIR_NAMES = ("config.yaml", CKPT_DIR, EMA_DIR, "log")


def claim_run_dir(run_dir: Union[str, Path], cfg: Any, force: bool = False) -> None:
    """Mark ``run_dir`` as a training run folder, refusing one that holds other files or overlaps the training data
    or the pretrained file (unless ``force``).

    Raises:
        ResumeError: the folder may not be used (the message says why and names ``--force-output``).
    """
    from aot_plus.config import to_dict
    from aot_plus.io.ownership import claim_folder

    def roots(tree: Any, prefix: str = "") -> list[Path]:
        if isinstance(tree, dict):
            return [p for k, v in tree.items() for p in roots(v, f"{prefix}.{k}")]
        return [Path(tree)] if prefix.endswith("root") and tree else []

    inputs = roots(to_dict(cfg.data)) + ([Path(cfg.train.pretrained)] if cfg.train.pretrained else [])
    try:
        claim_folder(run_dir, "aot_plus.train", inputs=inputs, force=force, what="run folder (train.output_dir)",
                     own_names=RUN_DIR_NAMES)
    except ValueError as err:
        raise ResumeError(str(err)) from err
