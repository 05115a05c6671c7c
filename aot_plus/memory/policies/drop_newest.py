"""Drop the newest stored frame: once full, the bank keeps its earliest frames (RMem's "drop the latest" row).

The interface never evicts the frame just inserted (it is what the next frames attend to first), so on overflow
this policy evicts the frame inserted before it, bank position ``len - 2``. The reference frames and the first
``max_recent_frames - 1`` insertions therefore stay for the whole video, and the last slot always holds the most
recent insertion (see ``docs/memory-ablations.md``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aot_plus.memory.evidence import Evidence
from aot_plus.memory.policies.base import EvictionPolicy, PolicyConfig


@dataclass(frozen=True)
class DropNewestConfig(PolicyConfig, tag="drop_newest"):
    """No constants: the bank bounds come from ``memory.reference_frames`` and ``memory.max_recent_frames``."""


class DropNewestPolicy(EvictionPolicy, config=DropNewestConfig):
    """Evicts the previously newest frame on overflow; reads no evidence and keeps no statistics."""

    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        """Position ``len(frame_ids) - 2`` when the bank overflows, else None."""
        return len(frame_ids) - 2 if self.overflows(len(frame_ids)) else None
