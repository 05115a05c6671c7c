"""Hand-made evidence for each policy: which frame is evicted and why, ties, protected reference frames, state."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch

from aot_plus.config import from_dict
from aot_plus.memory import (EMFSConfig, Evidence, EvictionPolicy, FifoConfig, MemoryConfig, PolicyConfig,
                             RMemConfig, UnboundedConfig, build_policy, key_similarity, registered_policies)
from aot_plus.memory.policies.emfs import redundancy


def policy_for(policy_cfg: PolicyConfig, reference_frames: int = 1, max_recent_frames=3,
               family: str = "aot") -> EvictionPolicy:
    return build_policy(MemoryConfig(reference_frames=reference_frames, max_recent_frames=max_recent_frames,
                                     policy=policy_cfg.resolve(family)))


def one_hot_keys(groups: list[int], tokens: int = 16, channels: int = 4) -> torch.Tensor:
    """Keys (T, L, 1, C) whose token profiles are one-hot; frames of the same group are identical, others orthogonal."""
    keys = torch.zeros(len(groups), tokens, 1, channels)
    for frame, group in enumerate(groups):
        for channel in range(channels):
            keys[frame, (group * channels + channel) % tokens, 0, channel] = 3.0
    return keys


# ------------------------------------------------------------------------------------------------ registry


def test_registry_and_build_policy():
    assert {"unbounded", "fifo", "rmem", "emfs"} <= set(registered_policies())
    for name, policy_cls in registered_policies().items():
        cfg = from_dict(MemoryConfig, {"policy": {"name": name}}).resolve("aot")
        assert type(build_policy(cfg)) is policy_cls
    assert build_policy(MemoryConfig()).needs == frozenset()
    assert policy_for(RMemConfig()).needs == {"attention", "foreground"}
    assert policy_for(EMFSConfig()).needs == {"attention", "foreground", "keys"}


def test_auto_constants_must_be_resolved_before_a_policy_is_built():
    with pytest.raises(ValueError, match=r"memory\.policy\.score_every_insertion is still 'auto'"):
        build_policy(MemoryConfig(policy=RMemConfig()))
    with pytest.raises(ValueError, match="model family"):
        RMemConfig().resolve("swin")
    assert policy_for(RMemConfig(), family="deaot").cfg.score_every_insertion is True
    explicit = policy_for(EMFSConfig(penalty_slope=3.0, score_every_insertion=False), family="deaot").cfg
    assert (explicit.penalty_slope, explicit.penalty_threshold, explicit.score_every_insertion) == (3.0, 0.25, False)


def test_new_policy_is_one_class_and_one_config():
    @dataclass(frozen=True)
    class KeepNewestConfig(PolicyConfig, tag="test_keep_newest"):
        keep: int = 1

    class KeepNewestPolicy(EvictionPolicy, config=KeepNewestConfig):
        def after_insert(self, frame_ids, evidence=None):
            return len(frame_ids) - 2 if self.overflows(len(frame_ids)) else None

    cfg = from_dict(MemoryConfig, {"max_recent_frames": 2, "policy": {"name": "test_keep_newest", "keep": 3}})
    policy = build_policy(cfg)
    assert isinstance(policy, KeepNewestPolicy) and policy.cfg.keep == 3
    assert policy.after_insert([0, 1, 2, 3]) == 2


# ------------------------------------------------------------------------------------------------ unbounded / fifo


def test_unbounded_never_evicts():
    policy = policy_for(UnboundedConfig(), max_recent_frames=2)
    assert policy.capacity is None and policy.needs == frozenset()
    for size in range(2, 200):
        assert not policy.needs_evidence(size)
        assert policy.after_insert(list(range(size))) is None


def test_fifo_evicts_oldest_non_reference():
    policy = policy_for(FifoConfig(), max_recent_frames=3)
    assert policy.after_insert([0, 1, 2, 3]) is None
    assert policy.after_insert([0, 1, 2, 3, 4]) == 1
    assert not policy.needs_evidence(5)
    two_references = policy_for(FifoConfig(), reference_frames=2, max_recent_frames=2)
    assert two_references.after_insert([0, 5, 1, 2, 3]) == 2


def test_fifo_order_over_a_video():
    policy = policy_for(FifoConfig(), max_recent_frames=3)
    bank = [0]
    for frame in range(1, 21):
        bank.append(frame)
        position = policy.after_insert(bank)
        if position is not None:
            bank.pop(position)
        assert len(bank) <= 4
    assert bank == [0, 18, 19, 20]


# ------------------------------------------------------------------------------------------------ rmem


def test_rmem_worked_ucb_numbers_and_tie(make_evidence):
    """First call of a 1+3 bank (AOT path): N = [4, 1, 1, 1], u = [0.6040, 0.6975, 0.6975, 0.6975].

    The worked numbers of ``docs/memory-policies.md`` (rmem).
    """
    policy = policy_for(RMemConfig(), max_recent_frames=3)
    for bank in ([0, 1], [0, 1, 2], [0, 1, 2, 3]):
        assert not policy.needs_evidence(len(bank))
        assert policy.after_insert(bank) is None
    assert policy.last_scores is None and policy.counts == {} and policy.moving_mean == {}
    assert policy.needs_evidence(5)
    position = policy.after_insert([0, 1, 2, 3, 4], make_evidence([1, 1, 1, 1]))
    scores = policy.last_scores
    assert scores.terms["ucb_counts"].tolist() == [4, 1, 1, 1]
    assert torch.allclose(scores.terms["ucb_bonus"], torch.tensor([0.6040, 0.6975, 0.6975, 0.6975]), atol=5e-5)
    assert scores.moving_mean.tolist() == [0.25] * 4
    assert position == 1  # positions 1..3 tie exactly: the lowest wins
    assert policy.counts == {0: 1, 1: 1, 2: 1, 3: 1, 4: 1}


def test_rmem_evicts_least_relevant_never_the_reference(make_evidence):
    policy = policy_for(RMemConfig(), max_recent_frames=3)
    position = policy.after_insert([0, 1, 2, 3, 4], make_evidence([0.0, 0.4, 0.1, 0.5]))
    assert position == 2  # position 0 is even less relevant but protected
    assert policy.last_scores.position == 2


def test_rmem_moving_mean_keyed_by_frame(make_evidence):
    policy = policy_for(RMemConfig(moving_mean_factor=0.8), max_recent_frames=3)
    policy.after_insert([0, 1, 2, 3, 4], make_evidence([0.1, 0.2, 0.3, 0.4]))
    first = policy.moving_mean
    assert policy.last_scores.position == 1 and 4 not in first
    current = torch.tensor([0.4, 0.3, 0.2, 0.1])
    policy.after_insert([0, 2, 3, 4, 5], make_evidence(current.tolist()))
    stored = torch.tensor([first[0], first[2], first[3]])
    expected = torch.cat([(1 - 0.8) * stored + 0.8 * current[:3], current[3:]])
    assert policy.last_scores.moving_mean.tolist() == expected.tolist()
    assert set(policy.moving_mean) == {0, 2, 3, 4}  # evicted frame 1 forgotten, new frame 5 not yet scored
    assert policy.counts == {0: 2, 2: 2, 3: 2, 4: 2, 5: 1}


def test_rmem_fresh_frames_protected_on_every_insertion_schedule(make_evidence):
    """DeAOT path: scored at every insertion, so counts grow per insertion and long-kept frames get small bonuses."""
    policy = policy_for(RMemConfig.for_family("deaot"), max_recent_frames=2)
    assert policy.needs_evidence(2)
    assert policy.after_insert([0, 1], make_evidence([1.0])) is None
    assert policy.last_scores.terms["ucb_bonus"].tolist() == [0.0]  # N = [1]: ln 1 = 0
    assert policy.moving_mean == {0: 1.0} and policy.counts == {0: 1, 1: 1}
    bank, evicted = [0, 1], []
    for frame in range(2, 9):
        bank.append(frame)
        position = policy.after_insert(bank, make_evidence([1.0] * (len(bank) - 1)))
        if position is not None:
            evicted.append(bank.pop(position))
    # Frame 2 goes first: its first relevance (1/3) is below frame 1's moving mean (0.2 * 0.5 + 0.8 / 3); from then
    # on relevance is uniform and the freshness bonus makes the bank first-in, first-out.
    assert evicted == [2, 1, 3, 4, 5, 6] and bank == [0, 7, 8]
    assert policy.counts == {0: 8, 6: 3, 7: 2, 8: 1}
    counts = policy.last_scores.terms["ucb_counts"].tolist()
    bonus = policy.last_scores.terms["ucb_bonus"].tolist()
    assert counts == [3.0, 3.0, 2.0] and bonus[1] < bonus[2]


def test_rmem_protected_positions_with_two_reference_frames(make_evidence):
    evidence = make_evidence([0.3, 0.0, 0.3, 0.2, 0.2])
    first = policy_for(RMemConfig(), reference_frames=2, max_recent_frames=3)
    assert first.after_insert([0, 1, 2, 3, 4, 5], evidence) == 1  # the reference protects position 0 only
    both = policy_for(RMemConfig(protected_positions="reference_frames"), reference_frames=2, max_recent_frames=3)
    assert both.after_insert([0, 1, 2, 3, 4, 5], evidence) == 3


def test_rmem_zero_foreground_gives_nan_and_evicts_first_candidate():
    policy = policy_for(RMemConfig(), max_recent_frames=2)
    evidence = Evidence(attention_mass=torch.full((4, 3), 1 / 3), foreground=torch.zeros(4))
    assert policy.after_insert([0, 5, 6, 7], evidence) == 1
    assert all(math.isnan(v) for v in policy.moving_mean.values())


def test_rmem_missing_or_mismatched_evidence(make_evidence):
    policy = policy_for(RMemConfig(), max_recent_frames=2)
    with pytest.raises(ValueError, match="needs evidence"):
        policy.after_insert([0, 1, 2, 3])
    with pytest.raises(ValueError, match="needs evidence"):
        policy.after_insert([0, 1, 2, 3], Evidence(attention_mass=torch.ones(1, 3)))
    with pytest.raises(ValueError, match="does not cover the 3 frames"):
        policy.after_insert([0, 1, 2, 3], make_evidence([1, 1]))


def test_rmem_reset_and_unbounded_capacity(make_evidence):
    policy = policy_for(RMemConfig(), max_recent_frames=2)
    policy.after_insert([0, 1, 2, 3], make_evidence([1, 2, 3]))
    policy.reset()
    assert policy.moving_mean == {} and policy.counts == {} and policy.last_scores is None
    unbounded = policy_for(RMemConfig.for_family("deaot"), max_recent_frames=None)
    assert not unbounded.needs_evidence(50) and unbounded.after_insert(list(range(50))) is None


# ------------------------------------------------------------------------------------------------ emfs


def test_emfs_spec_numbers_deaot_path(make_evidence):
    """First DeAOT call T = 1: s = 2 * 1 + 1 / (1 + e^-1.75) = 2.8520; T = 2: q = [0.5, 0.5].

    The worked numbers of ``docs/memory-policies.md`` (emfs).
    """
    policy = policy_for(EMFSConfig.for_family("deaot"), max_recent_frames=3)
    assert policy.after_insert([0, 1], make_evidence([1.0], one_hot_keys([0]))) is None
    assert policy.last_scores.score.tolist() == pytest.approx([2.0 + 1 / (1 + math.exp(-1.75))])
    assert policy.last_scores.terms["redundancy"].tolist() == [0.0]
    policy.after_insert([0, 1, 2], make_evidence([1.0, 1.0], torch.randn(2, 8, 1, 4)))
    assert policy.last_scores.terms["redundancy"].tolist() == [0.5, 0.5]
    assert policy.last_scores.terms["penalty"].tolist() == pytest.approx([1 / (1 + math.exp(7 * 0.25))] * 2)


def test_emfs_evicts_redundant_frame_over_less_relevant_one(make_evidence):
    """Frames at positions 1 and 3 are copies: q = [0, 0.5, 0, 0.5], so they lose to the less relevant position 2."""
    policy = policy_for(EMFSConfig(), max_recent_frames=3)
    keys = one_hot_keys([0, 1, 2, 1])
    position = policy.after_insert([0, 1, 2, 3, 4], make_evidence([0.25, 0.26, 0.23, 0.26], keys))
    scores = policy.last_scores
    assert scores.terms["redundancy"].tolist() == [0.0, 0.5, 0.0, 0.5]
    assert position == 1  # exact tie between positions 1 and 3: the lowest position wins
    no_copies = policy_for(EMFSConfig(), max_recent_frames=3)
    distinct = make_evidence([0.25, 0.26, 0.23, 0.26], one_hot_keys([0, 1, 2, 3]))
    assert no_copies.after_insert([0, 1, 2, 3, 4], distinct) == 2
    more_relevant = policy_for(EMFSConfig(), max_recent_frames=3)
    assert more_relevant.after_insert([0, 1, 2, 3, 4], make_evidence([0.25, 0.27, 0.23, 0.26], keys)) == 3


def test_emfs_reference_frame_never_evicted(make_evidence):
    policy = policy_for(EMFSConfig(), max_recent_frames=2)
    keys = one_hot_keys([0, 0, 1])  # the reference is redundant and irrelevant, yet kept
    assert policy.after_insert([0, 1, 2, 3], make_evidence([0.0, 0.5, 0.5], keys)) == 1


def test_emfs_redundancy_rounding_and_zero_total():
    similarity = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    assert redundancy(similarity, 4).tolist() == pytest.approx([0.3333] * 3, abs=1e-7)
    assert redundancy(torch.zeros(3, 3), 4).tolist() == [0.0, 0.0, 0.0]
    assert redundancy(similarity, 1).tolist() == pytest.approx([0.3] * 3, abs=1e-7)


def test_emfs_uses_keys_or_similarity(make_evidence):
    keys = torch.randn(3, 8, 1, 4)
    with_keys = policy_for(EMFSConfig(), max_recent_frames=2)
    with_keys.after_insert([0, 1, 2, 3], make_evidence([1, 2, 3], keys))
    with_matrix = policy_for(EMFSConfig(), max_recent_frames=2)
    evidence = make_evidence([1, 2, 3])
    evidence = Evidence(evidence.attention_mass, evidence.foreground, key_similarity=key_similarity(keys))
    with_matrix.after_insert([0, 1, 2, 3], evidence)
    assert with_keys.last_scores.score.tolist() == with_matrix.last_scores.score.tolist()
    with pytest.raises(ValueError, match="keys"):
        policy_for(EMFSConfig(), max_recent_frames=2).after_insert([0, 1, 2, 3], make_evidence([1, 2, 3]))
