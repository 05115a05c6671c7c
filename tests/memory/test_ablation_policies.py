"""The ablation eviction rules on hand-made banks: drop_oldest_any, drop_newest and seeded random."""
from __future__ import annotations

import pytest

from aot_plus.config import from_dict, read_yaml_tree
from aot_plus.config.loader import configs_root
from aot_plus.memory import MemoryConfig, build_policy
from aot_plus.memory.policies.drop_newest import DropNewestPolicy
from aot_plus.memory.policies.drop_oldest_any import DropOldestAnyPolicy
from aot_plus.memory.policies.random_eviction import RandomConfig, RandomPolicy


def policy_named(name: str, reference_frames: int = 1, max_recent_frames: int = 3, **constants):
    cfg = from_dict(MemoryConfig, {"reference_frames": reference_frames, "max_recent_frames": max_recent_frames,
                                   "policy": {"name": name, **constants}})
    return build_policy(cfg)


def simulate(policy, inserts: int) -> tuple[list[int], list]:
    """Frame ids 0..inserts through the policy; returns the final bank and the evicted position of each step."""
    bank, positions = [0], []
    for frame in range(1, inserts + 1):
        bank.append(frame)
        position = policy.after_insert(tuple(bank), None)
        positions.append(position)
        if position is not None:
            del bank[position]
    return bank, positions


def test_drop_oldest_any_evicts_the_reference_then_slides():
    policy = policy_named("drop_oldest_any")
    assert isinstance(policy, DropOldestAnyPolicy) and policy.needs == frozenset()
    assert policy.after_insert((0, 5, 10)) is None and policy.after_insert((0, 5, 10, 15)) is None
    assert policy.after_insert((0, 5, 10, 15, 20)) == 0  # the reference frame goes first
    bank, positions = simulate(policy, 7)
    assert positions == [None, None, None, 0, 0, 0, 0]
    assert bank == [4, 5, 6, 7]


def test_drop_newest_keeps_the_earliest_frames():
    policy = policy_named("drop_newest")
    assert isinstance(policy, DropNewestPolicy)
    assert policy.after_insert((0, 5, 10, 15, 20)) == 3  # frame 15, the newest before the insertion
    bank, positions = simulate(policy, 7)
    assert positions == [None, None, None, 3, 3, 3, 3]
    assert bank == [0, 1, 2, 7]
    two_refs, _ = simulate(policy_named("drop_newest", reference_frames=2, max_recent_frames=2), 6)
    assert two_refs == [0, 1, 2, 6]


def test_random_is_uniform_over_non_reference_positions_and_seeded_per_video():
    policy = policy_named("random", reference_frames=2, max_recent_frames=3, seed=7)
    assert isinstance(policy, RandomPolicy) and policy.cfg == RandomConfig(seed=7)
    assert policy.after_insert((0, 1, 2, 3, 4)) is None
    draws = [policy.after_insert((0, 1, 2, 3, 4, 5)) for _ in range(600)]
    assert set(draws) == {2, 3, 4}  # never a reference frame (0, 1) nor the new frame (5)
    assert all(150 <= draws.count(p) <= 250 for p in (2, 3, 4))
    first_video = simulate(policy_named("random", seed=7), 30)
    policy.reset()
    again = [policy.after_insert((0, 1, 2, 3, 4, 5)) for _ in range(600)]
    assert again == draws  # reset (a new video) restarts from the seed
    assert simulate(policy_named("random", seed=7), 30) == first_video
    other_seed = simulate(policy_named("random", seed=8), 30)
    assert other_seed[1] != first_video[1]
    bank, positions = first_video
    assert bank[0] == 0 and bank[-1] == 30 and len(bank) == 4
    assert all(p is None for p in positions[:3]) and all(1 <= p <= 3 for p in positions[3:])


@pytest.mark.parametrize("name", ["drop_oldest_any", "drop_newest", "random"])
def test_yaml_presets_select_the_policy(name):
    tree = read_yaml_tree(configs_root() / "memory" / f"{name}.yaml")
    memory = from_dict(MemoryConfig, tree["memory"])
    assert memory.policy.name == name and memory.capacity == 9
