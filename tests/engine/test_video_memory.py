"""VideoMemory: gap rule, evidence plan, eviction, training fallback, swappable storage; one policy for both loops."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pytest
import torch

from aot_plus.engine import VideoSession
from aot_plus.engine.video_memory import VideoMemory
from aot_plus.memory import (Evidence, EvictionPolicy, FifoConfig, MemoryBank, MemoryConfig, PolicyConfig, RMemConfig,
                             build_policy)
from aot_plus.models import ModelConfig, build_model
from aot_plus.train.config import TrainConfig
from aot_plus.train.sequence import SequenceTrainer


@dataclass(frozen=True)
class KeepOldestConfig(PolicyConfig, tag="test_keep_oldest"):
    """A policy defined only in this test: on overflow it drops the newest old frame (the opposite of FIFO)."""


class KeepOldestPolicy(EvictionPolicy, config=KeepOldestConfig):
    calls: list[Optional[Evidence]] = []

    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        KeepOldestPolicy.calls.append(evidence)
        return len(frame_ids) - 2 if self.overflows(len(frame_ids)) else None


def _entry(frame: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    value = torch.full((2, 1, 3), float(frame))
    return [(value, value + 0.5)]


def _memory(policy_cfg: PolicyConfig, gap: int = 1, records_evidence: bool = True, **kwargs) -> VideoMemory:
    cfg = MemoryConfig(max_recent_frames=2, policy=policy_cfg).resolve("aot")
    return VideoMemory(build_policy(cfg), gap, records_evidence=records_evidence, **kwargs)


def test_gap_rule_short_term_every_write_and_fifo_eviction():
    changes = []
    memory = _memory(FifoConfig(), gap=2, bank=MemoryBank(on_change=changes.append))
    memory.write_reference(0, _entry(0), _entry(0))
    assert not memory.will_insert(1) and memory.will_insert(2)
    for frame in range(1, 9):
        evicted = memory.write(frame, _entry(frame), _entry(frame))
        assert memory.short_term()[0][0][0, 0, 0] == frame
        assert evicted == (2 if frame == 6 else 4 if frame == 8 else None)
    assert memory.frame_ids == (0, 6, 8) and changes[-1] == (0, 6, 8)  # the given storage was used
    assert memory.long_term()[0][0][:, 0, 0, 0].tolist() == [0.0, 6.0, 8.0]


def test_short_term_skip_keeps_the_entry_written_that_many_times_back():
    memory = _memory(FifoConfig(), short_term_skip=2)
    memory.write_reference(0, _entry(0), _entry(0))
    for frame in (1, 2, 3):
        memory.write(frame, _entry(frame), _entry(frame))
    assert memory.short_term()[0][0][0, 0, 0] == 2


def test_evidence_is_planned_only_for_a_scored_insertion():
    memory = _memory(RMemConfig(), gap=2)  # AOT path: scores only when the insertion overflows (capacity 3)
    memory.write_reference(0, _entry(0), _entry(0))
    assert memory.evidence_needed(1) == frozenset()  # not inserted
    assert memory.evidence_needed(2) == frozenset()  # inserted, bank of 2: no overflow
    memory.write(2, _entry(2), _entry(2))
    memory.write(4, _entry(4), _entry(4))
    assert memory.evidence_needed(6) == {"attention", "foreground"}
    with pytest.raises(ValueError, match="needs evidence"):
        memory.write(6, _entry(6), _entry(6))


def test_without_recorded_evidence_a_scoring_policy_falls_back_to_fifo():
    memory = _memory(RMemConfig(), records_evidence=False)
    memory.write_reference(0, _entry(0), _entry(0))
    assert all(memory.evidence_needed(frame) == frozenset() for frame in range(1, 5))
    for frame in range(1, 5):
        memory.write(frame, _entry(frame), _entry(frame))
    assert memory.frame_ids == (0, 3, 4) and memory.policy.last_scores is None


def test_reset_forgets_memories_and_restarts_the_gap():
    memory = _memory(FifoConfig(), gap=3)
    memory.write_reference(0, _entry(0), _entry(0))
    memory.write(3, _entry(3), _entry(3))
    memory.reset()
    assert len(memory) == 0 and memory.last_insert == -1
    memory.write_reference(5, _entry(5), _entry(5))
    assert memory.frame_ids == (5,) and not memory.will_insert(7)


def test_a_registered_policy_drives_training_and_inference_alike():
    torch.manual_seed(0)
    model = build_model(ModelConfig())
    memory_cfg = MemoryConfig(max_recent_frames=2, long_term_gap=1, policy=KeepOldestConfig())
    size, frames = 33, 5
    images = torch.randn(frames, 1, 3, size, size)
    labels = torch.zeros(frames, 1, size, size, dtype=torch.long)
    labels[:, :, 4:20, 4:20] = 1

    KeepOldestPolicy.calls.clear()
    banks: list[MemoryBank] = []
    trainer = SequenceTrainer(model.train(), ModelConfig(), memory_cfg, TrainConfig(long_term_gap=1, id_shuffle=False),
                              bank_factory=lambda: banks.append(MemoryBank()) or banks[-1])
    trainer(images, labels, torch.tensor([1]), step=0).loss.backward()
    # frames 1..3 are inserted (the last frame is never memorised); FIFO would have kept (0, 2, 3)
    assert banks[0].frame_ids == (0, 1, 3) and KeepOldestPolicy.calls == [None, None, None]

    KeepOldestPolicy.calls.clear()
    session = VideoSession(model.eval(), memory_cfg)
    session.add_reference(images[0], labels[0, 0])
    for t in range(1, frames - 1):
        session.step(images[t])
        session.update(labels[t, 0])
    assert session.kept_frames == (0, 1, 3) and KeepOldestPolicy.calls == [None, None, None]
