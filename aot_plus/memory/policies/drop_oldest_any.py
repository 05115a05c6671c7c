"""Drop the oldest frame, reference included: a plain sliding window (RMem's "drop frame 0" ablation row).

Unlike FIFO, which always keeps the ``memory.reference_frames`` leading positions, this policy evicts bank
position 0 whenever the bank overflows, so the annotated frame leaves the memory after ``capacity`` insertions
and the bank then holds only the most recent insertions (see ``docs/memory-ablations.md``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aot_plus.memory.evidence import Evidence
from aot_plus.memory.policies.base import EvictionPolicy, PolicyConfig


@dataclass(frozen=True)
class DropOldestAnyConfig(PolicyConfig, tag="drop_oldest_any"):
    """No constants: the window length is ``memory.reference_frames + memory.max_recent_frames``."""


class DropOldestAnyPolicy(EvictionPolicy, config=DropOldestAnyConfig):
    """Evicts position 0 on overflow, whatever frame it holds; reads no evidence and keeps no statistics."""

    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        """Position 0 when the bank overflows, else None."""
        return 0 if self.overflows(len(frame_ids)) else None
