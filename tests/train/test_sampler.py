"""The resumable distributed batch sampler."""
from __future__ import annotations

import pytest

from aot_plus.train.sampler import ResumableBatchSampler


def test_ranks_split_each_epoch_and_epochs_differ():
    ranks = [ResumableBatchSampler(10, 2, rank=r, world_size=2, seed=5) for r in (0, 1)]
    assert ranks[0].batches_per_epoch == 2  # 5 indices per rank, the last incomplete batch dropped
    seen = [[i for batch in s for i in batch] for s in ranks]
    assert not set(seen[0]) & set(seen[1]) and len(seen[0]) == len(seen[1]) == 4
    ranks[0].set_position(1)
    assert [i for batch in ranks[0] for i in batch] != seen[0]
    padded = ResumableBatchSampler(5, 1, rank=1, world_size=2, seed=0)
    assert padded.batches_per_epoch == 3  # 5 samples padded to 6 over 2 ranks


def test_position_of_step_replays_the_same_batches():
    sampler = ResumableBatchSampler(7, 2, seed=1)
    order = []
    for epoch in range(3):
        sampler.set_position(epoch)
        order += list(sampler)
    for step in (0, 2, 4, 7):
        epoch, batch = sampler.position_of_step(step)
        sampler.set_position(epoch, batch)
        assert next(iter(sampler)) == order[step]
    with pytest.raises(ValueError, match="fewer than the per-rank batch"):
        ResumableBatchSampler(3, 3, rank=0, world_size=2)
