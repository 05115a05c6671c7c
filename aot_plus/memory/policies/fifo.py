"""FIFO: on overflow, evict the oldest frame after the reference frames (the "AOT*" / "DeAOT*" rows).

``docs/memory-policies.md``: the reference drops bank position ``FORMER_MEM_LEN`` whenever the bank exceeds
``FORMER_MEM_LEN + LATTER_MEM_LEN``; the bank then holds the reference frames and the most recent insertions. It
is also what the reference uses during training (no attention is recorded there).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aot_plus.memory.evidence import Evidence
from aot_plus.memory.policies.base import EvictionPolicy, PolicyConfig


@dataclass(frozen=True)
class FifoConfig(PolicyConfig, tag="fifo"):
    """FIFO has no constants of its own (it uses ``memory.reference_frames`` and ``memory.max_recent_frames``)."""


class FifoPolicy(EvictionPolicy, config=FifoConfig):
    """First in, first out among the non-reference frames; reads no evidence and keeps no statistics."""

    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        """Position ``reference_frames`` when the bank overflows, else None."""
        return self.reference_frames if self.overflows(len(frame_ids)) else None
