"""Sharding sequences over processes started by torchrun, and choosing each process's device.

The process group itself is joined through :mod:`aot_plus.distributed` (gloo: ranks exchange only small Python
objects, the list of sequences to do is computed by every rank and the timing totals are gathered at the end).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from aot_plus.distributed import seed_process
from aot_plus.launch import launch_ranks, resolve_device


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a torchrun launch (rank 0 of 1 when started directly)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on rank 0, which prints the summary and runs the metric."""
        return self.rank == 0


def dist_info_from_env() -> DistInfo:
    """Read ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` as torchrun sets them."""
    rank, world_size, local_rank = launch_ranks()
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank)


def shard(sizes: Sequence[int], world_size: int) -> list[list[int]]:
    """Split items over ranks so that each rank gets about the same total size.

    Greedy longest-first: items sorted by size (largest first, ties by index) each go to the rank with the
    smallest total so far (lowest rank on ties). Deterministic, so every rank computes the same split.

    Args:
        sizes: work per item (e.g. frames per sequence).
        world_size: number of ranks.

    Returns:
        For each rank, its item indices in increasing order.
    """
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    loads = [0] * world_size
    parts: list[list[int]] = [[] for _ in range(world_size)]
    for index in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        rank = min(range(world_size), key=lambda r: (loads[r], r))
        loads[rank] += sizes[index]
        parts[rank].append(index)
    return [sorted(p) for p in parts]


def select_device(name: str, info: DistInfo) -> torch.device:
    """Resolve the configured device once.

    Args:
        name: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        info: the launch; with plain ``cuda``/``auto`` rank r uses ``cuda:LOCAL_RANK``.

    Raises:
        ValueError: when CUDA is asked for but not available.
    """
    return resolve_device(name, info.local_rank, key="eval.device")


def configure_process(seed: int, num_threads: Optional[int]) -> None:
    """Seed Python, NumPy and torch, and set torch's CPU threads (None keeps torch's default)."""
    seed_process(seed)
    if num_threads:
        torch.set_num_threads(num_threads)
