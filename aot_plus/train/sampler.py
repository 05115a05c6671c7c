"""Data order for training: a distributed batch sampler that can start anywhere in an epoch.

Epoch ``e`` shuffles the dataset with a generator seeded from ``(seed, e)``; the permutation is padded to a
multiple of the world size (as ``DistributedSampler`` does) and rank ``r`` takes every ``world``-th index from
``r``; batches are cut from that list and a last incomplete batch is dropped. The training datasets draw each
sample from a generator keyed by (seed, epoch, index) (:mod:`aot_plus.data.seeding`), so the data a step sees
depends only on the step number: a resumed run replays exactly the batches an uninterrupted run would have seen,
with any number of loader workers.
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import Sampler


def _mix(seed: int, epoch: int) -> int:
    """A 62-bit generator seed from (seed, epoch) (a fixed mixing function, not Python's salted hash)."""
    value = (seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    value ^= value >> 31
    value = (value * 0xD6E8FEB86659FD93) & (2**64 - 1)
    value ^= value >> 32
    return value & (2**62 - 1)


class ResumableBatchSampler(Sampler[list[int]]):
    """Batches of dataset indices for one rank; :meth:`set_position` chooses the epoch and first batch.

    Args:
        num_samples: dataset length.
        batch_size: samples per batch on this rank.
        rank: this process's rank.
        world_size: number of processes.
        seed: base seed of the shuffles.
        shuffle: shuffle each epoch (False: dataset order).
    """

    def __init__(self, num_samples: int, batch_size: int, rank: int = 0, world_size: int = 1, seed: int = 0,
                 shuffle: bool = True) -> None:
        if num_samples < 1:
            raise ValueError("the training dataset is empty")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} out of range for world size {world_size}")
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.shuffle = shuffle
        self.per_rank = -(-num_samples // world_size)
        if self.per_rank < batch_size:
            raise ValueError(f"{num_samples} training samples give {self.per_rank} per rank, fewer than the "
                             f"per-rank batch of {batch_size}; lower train.batch_size or add data")
        self.epoch = 0
        self.start_batch = 0

    def __len__(self) -> int:
        return self.per_rank // self.batch_size - self.start_batch

    @property
    def batches_per_epoch(self) -> int:
        """Full batches per epoch on every rank."""
        return self.per_rank // self.batch_size

    def set_position(self, epoch: int, start_batch: int = 0) -> None:
        """Make the next iteration run ``epoch`` starting at batch ``start_batch``."""
        if not 0 <= start_batch < self.batches_per_epoch:
            raise ValueError(f"start batch {start_batch} out of range for {self.batches_per_epoch} batches")
        self.epoch, self.start_batch = epoch, start_batch

    def position_of_step(self, step: int) -> tuple[int, int]:
        """``(epoch, batch)`` that global step ``step`` uses (every step consumes one batch)."""
        return divmod(step, self.batches_per_epoch)

    def state_at_step(self, step: int) -> dict[str, int]:
        """What fixes the data order from ``step`` on (stored in checkpoints, compared on resume)."""
        epoch, batch = self.position_of_step(step)
        return {"seed": self.seed, "world_size": self.world_size, "batch_size": self.batch_size,
                "num_samples": self.num_samples, "epoch": epoch, "batch": batch}

    def _order(self) -> list[int]:
        if self.shuffle:
            gen = torch.Generator().manual_seed(_mix(self.seed, self.epoch))
            order = torch.randperm(self.num_samples, generator=gen).tolist()
        else:
            order = list(range(self.num_samples))
        total = self.per_rank * self.world_size
        while len(order) < total:
            order += order[:total - len(order)]
        return order

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        positions = list(range(self.rank, len(order), self.world_size))
        for b in range(self.start_batch, self.batches_per_epoch):
            chunk = positions[b * self.batch_size:(b + 1) * self.batch_size]
            yield [order[p] for p in chunk]
