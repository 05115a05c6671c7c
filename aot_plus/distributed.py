"""Process-group setup for training: one process, or torchrun (``--nproc_per_node``, multi-node alike).

The device is chosen once here. The backend is NCCL when training on CUDA and gloo on CPU.
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

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
        device: the device this process trains on.
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


def setup(device_name: str, timeout_s: int) -> DistContext:
    """Read torchrun's environment, pick the device and join the process group when world size > 1."""
    rank, world, local_rank = launch_ranks()
    device = resolve_device(device_name, local_rank, key="train.device")
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs: dict[str, Any] = {"device_id": device} if device.type == "cuda" else {}
        dist.init_process_group(backend, rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=timeout_s), **kwargs)
        log.info("rank %d/%d joined the %s process group on %s", rank, world, backend, device)
    return DistContext(rank=rank, world_size=world, local_rank=local_rank, device=device)


def cleanup() -> None:
    """Leave the process group if one was joined."""
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_mean(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Mean of ``tensor`` over ranks (a copy; unchanged in a single process)."""
    if not ctx.distributed:
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out)
    return out / ctx.world_size


def all_gather_objects(obj: Any, ctx: DistContext) -> list[Any]:
    """Every rank's ``obj`` in rank order (``[obj]`` in a single process)."""
    if not ctx.distributed:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, ctx: DistContext) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not ctx.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op in a single process)."""
    if ctx.distributed:
        dist.barrier()
