"""The memory state of one video (or one batch of training clips): bank, eviction policy, gap and short-term memory.

:class:`VideoMemory` is the one wiring of storage and policy, used by the inference session
(:class:`~aot_plus.engine.session.VideoSession`, one per identity group) and by the training forward
(:class:`~aot_plus.train.sequence.SequenceTrainer`). A frame goes through it as follows (``docs/memory-schedule.md``):

    memory.write_reference(frame, long, short)    a frame with a known mask starts (or extends) the memory
    kinds = memory.evidence_needed(frame)         before propagating: will the frame be inserted, and what will
                                                  the policy read at that insertion?
    memory.long_term(), memory.short_term()       the memories to propagate against
    memory.write(frame, long, short, evidence)    short-term memory always; long-term every ``gap`` frames,
                                                  then the policy may evict one frame

It never detaches or copies tensors, so training keeps gradients through every memory. The storage is a parameter
(``bank``): the growing :class:`~aot_plus.memory.MemoryBank` or the preallocated
:class:`~aot_plus.memory.StaticMemoryBank` (``memory.storage: static``, inference only; ``docs/static-memory.md``).
"""
from __future__ import annotations

import logging
from typing import Optional, Sequence

from torch import Tensor

from aot_plus.memory import Evidence, EvictionPolicy, MemoryBank
from aot_plus.memory.bank import LayerEntries, LayerMemory

logger = logging.getLogger(__name__)


class VideoMemory:
    """Long- and short-term memory of one video and the policy that bounds it.

    Args:
        policy: the eviction policy (its statistics belong to this video).
        gap: a frame enters the long-term memory when at least ``gap`` frames passed since the last insertion.
        short_term_skip: the short-term memory is the frame this many writes back (reference 1: the previous one).
        bank: the storage (default: a new :class:`~aot_plus.memory.MemoryBank`).
        records_evidence: whether the caller can record the evidence the policy asks for. The training forward
            records none: at an insertion where the policy would read evidence, the bank falls back to first-in
            first-out, as the reference trainer does; a policy that reads no evidence decides as at inference.
    """

    def __init__(self, policy: EvictionPolicy, gap: int, short_term_skip: int = 1,
                 bank: Optional[MemoryBank] = None, records_evidence: bool = True) -> None:
        if gap < 1:
            raise ValueError(f"the long-term gap must be >= 1, got {gap}")
        if short_term_skip < 1:
            raise ValueError(f"short_term_skip must be >= 1, got {short_term_skip}")
        self.policy = policy
        self.gap = gap
        self.short_term_skip = short_term_skip
        self.bank = MemoryBank() if bank is None else bank
        self.records_evidence = records_evidence
        self.last_insert = -1
        self._short_history: list[Sequence[LayerEntries]] = []

    def __len__(self) -> int:
        return len(self.bank)

    @property
    def frame_ids(self) -> tuple[int, ...]:
        """Frame indices in the long-term memory, in bank order."""
        return self.bank.frame_ids

    def reset(self) -> None:
        """Forget every memory and the policy's statistics."""
        self.bank.clear()
        self.policy.reset()
        self._short_history = []
        self.last_insert = -1

    def write_reference(self, frame_idx: int, long_entries: Sequence[LayerEntries],
                        short_entries: Sequence[LayerEntries]) -> None:
        """Append a frame with a known mask to the long-term memory and make it the short-term memory.

        The frame is appended whatever the gap (never evicted by it) and restarts the gap count.
        """
        self.bank.append(frame_idx, long_entries)
        self._set_short_term(short_entries)
        self.last_insert = frame_idx

    def will_insert(self, frame_idx: int) -> bool:
        """Whether writing frame ``frame_idx`` will insert it into the long-term memory (the gap rule)."""
        return frame_idx - self.last_insert >= self.gap

    def evidence_needed(self, frame_idx: int) -> frozenset[str]:
        """What the policy will read when frame ``frame_idx`` is written (empty when it is not inserted, when the
        policy does not score at that insertion, or when evidence is not recorded)."""
        if not self.records_evidence or not self.will_insert(frame_idx):
            return frozenset()
        return self.policy.needs if self.policy.needs_evidence(len(self.bank) + 1) else frozenset()

    def long_term(self) -> list[LayerMemory]:
        """Per layer, the long-term memory (each slot ``[T, ...]`` in bank order)."""
        return [self.bank.layer(i) for i in range(self.bank.num_layers)]

    @property
    def slot_valid(self) -> Optional[Tensor]:
        """Which slots of :meth:`long_term` hold a frame: None when all do (growing bank), else a ``[slots]`` bool
        mask (:class:`~aot_plus.memory.StaticMemoryBank`; the filled slots come first, in bank order)."""
        return self.bank.valid

    def short_term(self) -> list[LayerMemory]:
        """Per layer, the short-term memory."""
        return [self.bank.short_term(i) for i in range(self.bank.num_layers)]

    def write(self, frame_idx: int, long_entries: Sequence[LayerEntries], short_entries: Sequence[LayerEntries],
              evidence: Optional[Evidence] = None) -> Optional[int]:
        """Write a propagated frame: short-term memory always, long-term memory by the gap rule, then evict.

        Args:
            frame_idx: the frame's index in the video.
            long_entries: per layer, the frame's long-term memory entry.
            short_entries: per layer, the frame's short-term memory entry.
            evidence: what :meth:`evidence_needed` listed for this frame (None when it listed nothing).

        Returns:
            The frame index evicted from the long-term memory, or None.
        """
        self._set_short_term(short_entries)
        if not self.will_insert(frame_idx):
            return None
        self.last_insert = frame_idx
        self.bank.append(frame_idx, long_entries)
        position = self._eviction_position(evidence)
        if position is None:
            return None
        evicted = self.bank.remove(position)
        logger.debug("frame %d inserted, frame %d evicted (position %d)", frame_idx, evicted, position)
        return evicted

    def _eviction_position(self, evidence: Optional[Evidence]) -> Optional[int]:
        size = len(self.bank)
        if not self.records_evidence and self.policy.needs and self.policy.needs_evidence(size):
            return self.policy.reference_frames if self.policy.overflows(size) else None
        return self.policy.after_insert(self.bank.frame_ids, evidence)

    def _set_short_term(self, entries: Sequence[LayerEntries]) -> None:
        self._short_history = (self._short_history + [entries])[-self.short_term_skip:]
        self.bank.set_short_term(self._short_history[0])
