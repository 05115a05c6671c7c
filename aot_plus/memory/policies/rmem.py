"""RMem: evict the old frame with the lowest moving-mean relevance plus UCB freshness bonus.

See ``docs/memory-policies.md``. Each scored call counts, per frame index, how many scored calls a frame has been in
the bank for (the just-inserted frame included); frames that stayed long get a smaller bonus
``u_i = scale * sqrt(ln(sum_j N_j) / (N_i + offset))``, so fresh frames are protected. All in float32.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from aot_plus.memory.policies.relevance import RelevanceConfig, RelevancePolicy


@dataclass(frozen=True)
class RMemConfig(RelevanceConfig, tag="rmem"):
    """RMem constants (reference defaults; see :class:`RelevanceConfig` for the shared ones).

    Attributes:
        ucb_scale: multiplier of the UCB bonus (reference ``mul_item`` 1.5).
        ucb_offset: added to each count under the square root (reference ``add_item`` 8).
        first_count_is_candidates: overwrite position 0's count with the number of scored frames ``T`` before the
            bonus is computed, as the reference does (it changes the sum under the logarithm).
    """

    ucb_scale: float = 1.5
    ucb_offset: float = 8.0
    first_count_is_candidates: bool = True


class RMemPolicy(RelevancePolicy, config=RMemConfig):
    """Moving-mean relevance + UCB freshness; evicts the lowest score among the unprotected old frames."""

    cfg: RMemConfig

    @property
    def counts(self) -> dict[int, int]:
        """Scored calls each frame index has been in the bank for (a copy)."""
        return dict(self._counts)

    def reset(self) -> None:
        """Forget the moving means and the counts."""
        super().reset()
        self._counts: dict[int, int] = {}

    def _score(self, frame_ids: tuple[int, ...], moving_mean: Tensor,
               device_terms: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        self._counts = {f: self._counts.get(f, 0) + 1 for f in frame_ids}
        candidates = frame_ids[:-1]
        counts = torch.tensor([self._counts[f] for f in candidates], dtype=torch.float32)
        if self.cfg.first_count_is_candidates:
            counts[0] = len(candidates)
        bonus = self.cfg.ucb_scale * torch.sqrt(torch.log(counts.sum()) / (counts + self.cfg.ucb_offset))
        return {"ucb_counts": counts, "ucb_bonus": bonus}, moving_mean + bonus
