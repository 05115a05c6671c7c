"""Process set-up shared by training and evaluation: torchrun process group, collectives and seeding.

One process, or torchrun (``--nproc_per_node``, multi-node alike). The device is chosen once
(:func:`aot_plus.launch.resolve_device`); training joins NCCL on CUDA and gloo on CPU, evaluation always gloo (its
ranks exchange only small Python objects). The collectives are no-ops in a single process.
"""
from __future__ import annotations

import datetime
import logging
import random
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
import torch.distributed as dist

from aot_plus.launch import launch_ranks, resolve_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """This process's place in the launch and its device.

    Attributes:
        rank: global rank (0 when started directly).
        world_size: number of processes.
        local_rank: rank on this node (selects the CUDA device).
        device: the device this process runs on.
    """

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on rank 0 (logging, EMA, checkpoints)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when a process group with more than one process is in use."""
        return self.world_size > 1


def join_process_group(rank: int, world_size: int, backend: str, timeout_s: int,
                       device: Optional[torch.device] = None) -> None:
    """Join the process group when launched with more than one process (no-op otherwise or when joined)."""
    if world_size <= 1 or dist.is_initialized():
        return
    kwargs: dict[str, Any] = {"device_id": device} if device is not None and device.type == "cuda" else {}
    dist.init_process_group(backend, rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=timeout_s), **kwargs)
    log.info("rank %d/%d joined the %s process group", rank, world_size, backend)


def setup(device_name: str, timeout_s: int, key: str = "train.device") -> DistContext:
    """Read torchrun's environment, pick the device and join the process group (NCCL on CUDA, else gloo)."""
    rank, world, local_rank = launch_ranks()
    device = resolve_device(device_name, local_rank, key=key)
    join_process_group(rank, world, "nccl" if device.type == "cuda" else "gloo", timeout_s, device)
    return DistContext(rank=rank, world_size=world, local_rank=local_rank, device=device)


def cleanup() -> None:
    """Leave the process group if one was joined."""
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Mean of ``tensor`` over ranks (a copy; unchanged in a single process)."""
    if not dist.is_initialized():
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out)
    return out / dist.get_world_size()


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` in rank order, on every rank (``[obj]`` in a single process)."""
    if not dist.is_initialized():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    if dist.is_initialized():
        dist.barrier()


def seed_process(seed: int, include_torch: bool = True) -> None:
    """Seed Python's and NumPy's global generators (NumPy with ``seed mod 2**32``) and, unless told not to,
    torch's."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if include_torch:
        torch.manual_seed(seed)
