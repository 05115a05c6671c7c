"""Unbounded (original AOT): every inserted frame stays; nothing is ever evicted (``docs/memory-policies.md``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from aot_plus.memory.evidence import Evidence
from aot_plus.memory.policies.base import EvictionPolicy, PolicyConfig


@dataclass(frozen=True)
class UnboundedConfig(PolicyConfig, tag="unbounded"):
    """No constants: the bank grows by one frame per long-term gap, whatever ``memory.max_recent_frames`` says."""


class UnboundedPolicy(EvictionPolicy, config=UnboundedConfig):
    """Never evicts; reads no evidence."""

    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        """Always None."""
        return None
