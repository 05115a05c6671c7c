"""Random eviction: a uniformly drawn non-reference frame leaves on overflow (RMem's "random" ablation row).

Candidates are the positions after the ``memory.reference_frames`` leading ones, the frame just inserted excluded
(the interface never evicts it). The generator is seeded with ``seed`` when the policy is built and again at every
:meth:`RandomPolicy.reset`, so each video draws the same sequence whatever other videos ran before it or on which
process: a run is reproducible and independent of sharding (see ``docs/memory-ablations.md``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional, Sequence

from aot_plus.memory.evidence import Evidence
from aot_plus.memory.policies.base import EvictionPolicy, PolicyConfig


@dataclass(frozen=True)
class RandomConfig(PolicyConfig, tag="random"):
    """Random eviction's one constant.

    Attributes:
        seed: seed of the per-video generator (every video starts from it).
    """

    seed: int = 0


class RandomPolicy(EvictionPolicy, config=RandomConfig):
    """Evicts a uniformly drawn non-reference, non-new position on overflow; reads no evidence."""

    cfg: RandomConfig

    def __init__(self, cfg: RandomConfig, reference_frames: int, capacity: Optional[int]) -> None:
        super().__init__(cfg, reference_frames, capacity)
        self._rng = random.Random(cfg.seed)

    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        """A position drawn from ``reference_frames .. len(frame_ids) - 2`` when the bank overflows, else None."""
        if not self.overflows(len(frame_ids)):
            return None
        return self._rng.randrange(self.reference_frames, len(frame_ids) - 1)

    def reset(self) -> None:
        """Forget the draws: the next video starts from ``seed`` again."""
        super().reset()
        self._rng = random.Random(self.cfg.seed)
