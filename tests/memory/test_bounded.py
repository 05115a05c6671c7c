"""300 insertions through bank + policy: bounded policies keep reference + max_recent frames, unbounded grows."""
from __future__ import annotations

import pytest
import torch

from aot_plus.memory import (EMFSConfig, Evidence, FifoConfig, MemoryBank, MemoryConfig, RMemConfig,
                             UnboundedConfig, build_policy)
from aot_plus.memory.policies.drop_newest import DropNewestConfig
from aot_plus.memory.policies.drop_oldest_any import DropOldestAnyConfig
from aot_plus.memory.policies.random_eviction import RandomConfig

TOKENS, CHANNELS, LAYERS, INSERTS = 16, 8, 2, 300
POLICIES = {
    "fifo": FifoConfig(),
    "rmem_aot": RMemConfig.for_family("aot"),
    "rmem_deaot": RMemConfig.for_family("deaot"),
    "emfs_aot": EMFSConfig.for_family("aot"),
    "emfs_deaot": EMFSConfig.for_family("deaot"),
    "drop_oldest_any": DropOldestAnyConfig(),
    "drop_newest": DropNewestConfig(),
    "random": RandomConfig(seed=3),
}
#: Policies that may evict the reference frame (bank position 0).
EVICTS_REFERENCE = {"drop_oldest_any"}


def run_video(memory: MemoryConfig, seed: int = 0) -> tuple[MemoryBank, list[int]]:
    """Insert frames 0..INSERTS with random evidence; returns the bank and its size after every step."""
    generator = torch.Generator().manual_seed(seed)

    def frame_memory() -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(torch.randn(TOKENS, 1, CHANNELS, generator=generator),
                 torch.randn(TOKENS, 1, CHANNELS, generator=generator)) for _ in range(LAYERS)]

    bank, policy = MemoryBank(), build_policy(memory)
    bank.append(0, frame_memory())
    sizes, per_frame = [], bank.nbytes()
    for frame in range(1, INSERTS + 1):
        evidence = None
        if policy.needs_evidence(len(bank) + 1):
            keys = bank.layer(0)[0]
            weights = torch.rand(TOKENS, len(bank), generator=generator) + 0.01
            evidence = Evidence(attention_mass=weights / weights.sum(dim=1, keepdim=True),
                                foreground=torch.rand(TOKENS, generator=generator),
                                keys=keys if "keys" in policy.needs else None)
        bank.append(frame, frame_memory())
        position = policy.after_insert(bank.frame_ids, evidence)
        if position is not None:
            assert (0 if memory.policy.name in EVICTS_REFERENCE else 1) <= position < len(bank) - 1
            bank.remove(position)
        assert bank.frame_ids[-1] == frame
        assert bank.frame_ids[0] == 0 or memory.policy.name in EVICTS_REFERENCE
        assert bank.layer(LAYERS - 1)[1].shape[0] == len(bank)
        assert bank.nbytes() == len(bank) * per_frame
        sizes.append(len(bank))
    return bank, sizes


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_bounded_policies_stay_within_capacity(name):
    memory = MemoryConfig(reference_frames=1, max_recent_frames=8, policy=POLICIES[name])
    bank, sizes = run_video(memory)
    assert max(sizes) == 9 and sizes[7:] == [9] * (INSERTS - 7)
    assert list(bank.frame_ids) == sorted(bank.frame_ids) and len(set(bank.frame_ids)) == 9
    if name == "fifo":
        assert bank.frame_ids == (0, *range(INSERTS - 7, INSERTS + 1))
    if name == "drop_oldest_any":
        assert bank.frame_ids == tuple(range(INSERTS - 8, INSERTS + 1))
    if name == "drop_newest":
        assert bank.frame_ids == (*range(8), INSERTS)


def test_unbounded_grows():
    memory = MemoryConfig(reference_frames=1, max_recent_frames=8, policy=UnboundedConfig())
    bank, sizes = run_video(memory)
    assert sizes == list(range(2, INSERTS + 2))
    assert bank.frame_ids == tuple(range(INSERTS + 1)) and bank.layer(0)[0].shape[0] == INSERTS + 1
