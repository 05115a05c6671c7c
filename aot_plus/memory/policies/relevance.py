"""Shared machinery of the relevance-scored policies (RMem, EMFS): schedule, moving mean, choice of the position.

The relevance of each old frame is its share of the current frame's layer-0 long-term attention, weighted by the
predicted foreground (:func:`aot_plus.memory.evidence.relevance`), smoothed by a moving mean keyed by frame index
(``docs/memory-policies.md``). Subclasses add their own term and combine the two into a score; the lowest score
among the evictable positions is evicted (first one on ties; a NaN counts as the lowest, as in PyTorch's argmin).

The only host-device synchronisation of a call happens here, once, when the per-frame vectors are moved to the
CPU; everything after that is float32/float64 arithmetic on tiny CPU tensors, as in the reference.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from typing import Any, Literal, Optional, Sequence, Union

import torch
from torch import Tensor

from aot_plus.memory.evidence import Evidence, relevance
from aot_plus.memory.policies.base import AUTO, Auto, EvictionPolicy, ModelFamily, PolicyConfig, PolicyScores

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelevanceConfig(PolicyConfig):
    """Settings common to the relevance-scored policies (not a policy itself).

    Attributes:
        moving_mean_factor: weight of the current relevance in the moving mean
            (``m = (1 - f) * stored + f * current``; reference 0.8).
        score_every_insertion: when the policy scores and updates its statistics. False = only at insertions that
            overflow the bank (the reference's AOT path, ``LongShortTermTransformer``, returns early otherwise);
            True = at every insertion, evicting only on overflow (the reference's DeAOT path, ``DualBranchGPM``).
            ``auto`` (default) = the model family's path. See ``docs/memory-policies.md``.
        protected_positions: which leading positions are never evicted. ``first`` = position 0 only, as the
            reference hard-codes; ``reference_frames`` = all ``memory.reference_frames`` leading positions. The two
            agree when there is one reference frame (every published setting).
    """

    moving_mean_factor: float = 0.8
    score_every_insertion: Union[bool, Auto] = AUTO
    protected_positions: Literal["first", "reference_frames"] = "first"

    def __post_init__(self) -> None:
        if not 0.0 <= self.moving_mean_factor <= 1.0:
            raise ValueError(f"moving_mean_factor must lie in [0, 1], got {self.moving_mean_factor}")
        if self.score_every_insertion not in (True, False, AUTO):
            raise ValueError(f"score_every_insertion must be true, false or 'auto', got {self.score_every_insertion!r}")

    def family_values(self, family: ModelFamily) -> dict[str, Any]:
        """The DeAOT path scores at every insertion, the AOT path only on overflow."""
        return {"score_every_insertion": family == "deaot"}


class RelevancePolicy(EvictionPolicy):
    """Base of the policies that score frames by moving-mean relevance plus a policy-specific term."""

    needs = frozenset({"attention", "foreground"})
    cfg: RelevanceConfig

    @property
    def moving_mean(self) -> dict[int, float]:
        """The stored moving-mean relevance by frame index (a copy)."""
        return dict(self._moving_mean)

    def needs_evidence(self, bank_size: int) -> bool:
        """Scores only when the bank is bounded, at overflow or (``score_every_insertion``) at every insertion."""
        if self.capacity is None or bank_size < 2:
            return False
        return self.cfg.score_every_insertion or self.overflows(bank_size)

    @torch.no_grad()
    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        """Score the old frames if the schedule says so and return the position to evict on overflow."""
        frame_ids = tuple(int(f) for f in frame_ids)
        if not self.needs_evidence(len(frame_ids)):
            return None
        candidates = frame_ids[:-1]
        self._check_evidence(evidence, len(candidates))
        device_terms = [relevance(evidence.attention_mass, evidence.foreground)]
        device_terms.extend(self._device_terms(evidence))
        host = torch.stack([t.float() for t in device_terms]).cpu()
        current = host[0]
        moving = self._update_moving_mean(candidates, current)
        terms, score = self._score(frame_ids, moving, host[1:])
        position = self._choose(score) if self.overflows(len(frame_ids)) else None
        self.last_scores = PolicyScores(candidates, current, moving, terms, score, position)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("frames %s: relevance %s, moving mean %s, %s, score %s -> evict position %s", candidates,
                         current.tolist(), moving.tolist(), {k: v.tolist() for k, v in terms.items()},
                         score.tolist(), position)
        return position

    def reset(self) -> None:
        """Forget the moving means (and the subclass's statistics)."""
        super().reset()
        self._moving_mean: dict[int, float] = {}

    def _device_terms(self, evidence: Evidence) -> list[Tensor]:
        """Extra ``(T,)`` vectors computed on the evidence's device, moved to the CPU with the relevance."""
        return []

    @abc.abstractmethod
    def _score(self, frame_ids: tuple[int, ...], moving_mean: Tensor,
               device_terms: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        """The named per-position terms and the final ``(T,)`` score on the CPU.

        Args:
            frame_ids: the bank after the insertion (the new frame last).
            moving_mean: ``(T,)`` float32 moving-mean relevance of the candidates ``frame_ids[:-1]``.
            device_terms: ``(K, T)`` float32, the rows :meth:`_device_terms` returned, now on the CPU.
        """

    def _update_moving_mean(self, candidates: tuple[int, ...], current: Tensor) -> Tensor:
        factor = self.cfg.moving_mean_factor
        stored = torch.tensor([self._moving_mean.get(f, 0.0) for f in candidates], dtype=torch.float32)
        known = torch.tensor([f in self._moving_mean for f in candidates], dtype=torch.bool)
        moving = torch.where(known, (1 - factor) * stored + factor * current, current)
        self._moving_mean = dict(zip(candidates, moving.tolist()))
        return moving

    def _choose(self, score: Tensor) -> int:
        # Only called on overflow, where T >= reference_frames + 1, so at least one position is evictable.
        protected = 1 if self.cfg.protected_positions == "first" else self.reference_frames
        return protected + int(torch.argmin(score[protected:]))

    def _check_evidence(self, evidence: Optional[Evidence], num_candidates: int) -> None:
        name = type(self).__name__
        if evidence is None:
            raise ValueError(f"{name} needs evidence {sorted(self.needs)} at this insertion, got none")
        missing = [kind for kind in sorted(self.needs) if not evidence.provides(kind)]
        if missing:
            raise ValueError(f"{name} needs evidence {missing} at this insertion")
        mass = evidence.attention_mass
        if mass.dim() != 2 or mass.shape[1] != num_candidates:
            raise ValueError(f"{name}: attention mass of shape {tuple(mass.shape)} does not cover the "
                             f"{num_candidates} frames before the insertion (expected (L, {num_candidates}))")
