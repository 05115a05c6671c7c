"""Start-up helpers of the training loop: input checks, seeds and determinism, model initialisation, data.

Everything that can fail because of the user's input (a missing dataset folder or pretrained file, a batch that
does not divide over the ranks) fails here, before any training work, with one :class:`StartupError` line.
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any, Iterator, Optional

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from aot_plus.data.build import build_train_dataset
from aot_plus.data.errors import DatasetError
from aot_plus.data.seeding import worker_init_fn
from aot_plus.distributed import DistContext, seed_process
from aot_plus.models import build_model
from aot_plus.models.checkpoint import CheckpointError, LoadReport, load_checkpoint_file, load_imagenet_backbone, \
    load_weights
from aot_plus.train.config import TrainConfig
from aot_plus.train.sampler import ResumableBatchSampler

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """A problem with the run's inputs found at start-up; the message is one line naming the key or file."""


def check_pretrained(tc: TrainConfig) -> None:
    """Fail early when ``train.pretrained`` names a file that does not exist."""
    if tc.pretrained is not None and not Path(tc.pretrained).is_file():
        raise StartupError(f"train.pretrained: file not found: {tc.pretrained}")


def load_train_dataset(cfg: Any) -> Dataset:
    """The training mixture of ``cfg.data`` (a missing or malformed dataset becomes a :class:`StartupError`)."""
    try:
        return build_train_dataset(cfg.data, seed=cfg.train.seed)
    except DatasetError as err:
        raise StartupError(f"training data: {err}") from err


@contextlib.contextmanager
def torch_settings(tc: TrainConfig, ctx: DistContext) -> Iterator[None]:
    """Seed this rank (``seed + rank``) and set CPU threads and the cuDNN / deterministic-algorithm switches for
    the duration of a run; the process-wide switches are restored afterwards (the seeds are not)."""
    saved = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.deterministic,
             torch.backends.cudnn.benchmark)
    if tc.num_threads is not None:
        torch.set_num_threads(tc.num_threads)
    seed_process(tc.seed + ctx.rank)
    if tc.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = tc.deterministic
    torch.backends.cudnn.benchmark = not tc.deterministic
    try:
        yield
    finally:
        threads, deterministic, warn_only, cudnn_deterministic, cudnn_benchmark = saved
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.deterministic = cudnn_deterministic
        torch.backends.cudnn.benchmark = cudnn_benchmark


def initialise_weights(model: nn.Module, tc: TrainConfig, encoder_name: str) -> Optional[LoadReport]:
    """Load ``train.pretrained`` into ``model`` as ``train.pretrained_mode`` says; returns the load report.

    Modes: ``full`` (strict: every key and shape must match), ``non_strict`` (the reference rule for starting the
    VOST layout from model-zoo weights: mis-shaped and unknown keys skipped, the 11-channel identity bank copied
    into the first 11 of 12 channels, keys the file lacks keep their initialisation), ``encoder`` (the
    ``encoder.*`` weights of a released checkpoint, non-strict) and ``imagenet`` (an ImageNet backbone file).

    Raises:
        StartupError: the file is missing, unreadable, or does not fit the model.
    """
    if tc.pretrained is None:
        return None
    path = tc.pretrained
    try:
        if tc.pretrained_mode == "imagenet":
            report = load_imagenet_backbone(model.encoder, path, encoder_name)
        elif tc.pretrained_mode == "encoder":
            prefix = "encoder."
            weights = {k[len(prefix):]: v for k, v in load_checkpoint_file(path).items() if k.startswith(prefix)}
            if not weights:
                raise StartupError(f"train.pretrained: {path} holds no encoder.* weights")
            report = load_weights(model.encoder, weights, strict=False)
        else:
            report = load_weights(model, path, strict=tc.pretrained_mode == "full")
    except (FileNotFoundError, CheckpointError) as err:
        first = str(err).splitlines()[0]
        raise StartupError(f"train.pretrained ({tc.pretrained_mode}): {first}") from err
    log.info("initialised from %s (%s):\n%s", path, tc.pretrained_mode, report.format())
    return report


def build_training_model(cfg: Any, device: torch.device, load_pretrained: bool = True) -> nn.Module:
    """Build the network (frozen encoder stages per ``model.freeze_at``), load ``train.pretrained`` unless
    ``load_pretrained`` is False (a resumed run takes every weight from its checkpoint), and move it to ``device``."""
    model = build_model(cfg.model)
    if load_pretrained:
        initialise_weights(model, cfg.train, cfg.model.encoder)
    return model.to(device).train()


def build_loader(dataset: Dataset, cfg: Any, ctx: DistContext) -> tuple[DataLoader, ResumableBatchSampler]:
    """The rank's data loader (per-rank batch ``train.batch_size // world_size``) and its batch sampler."""
    per_rank = cfg.train.batch_size // ctx.world_size
    if per_rank < 1 or cfg.train.batch_size % ctx.world_size:
        raise StartupError(f"train.batch_size={cfg.train.batch_size} does not divide over {ctx.world_size} "
                           "processes; use a multiple of the process count")
    try:
        sampler = ResumableBatchSampler(len(dataset), per_rank, ctx.rank, ctx.world_size, seed=cfg.train.seed)
    except ValueError as err:
        raise StartupError(str(err)) from err
    workers = cfg.data.num_workers
    # A private generator for the workers' base seed keeps the loader from drawing on the global torch generator
    # (which drives DropPath and the identity shuffle), so resumed runs see the same random numbers.
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=workers, pin_memory=ctx.device.type == "cuda",
                        worker_init_fn=worker_init_fn if workers > 0 else None,
                        generator=torch.Generator().manual_seed(cfg.train.seed),
                        prefetch_factor=cfg.data.prefetch_factor if workers > 0 else None)
    return loader, sampler
