"""EMFS: evict the old frame with the lowest weighted moving-mean relevance plus sigmoid redundancy penalty.

See ``docs/memory-policies.md``. The redundancy of frame ``i`` is its share of the summed key similarity
(:func:`aot_plus.memory.evidence.key_similarity`), rounded in float32; a frame much more similar to the others
than average gets a small penalty term ``1 / (1 + exp(k * (q_i - t)))`` and is evicted first. The score
``w * m_i + p_i`` is float64 (``w * m_i`` in float32 first), as in the reference.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import torch
from torch import Tensor

from aot_plus.memory.evidence import Evidence, key_similarity
from aot_plus.memory.policies.base import AUTO, Auto, ModelFamily
from aot_plus.memory.policies.relevance import RelevanceConfig, RelevancePolicy

#: Reference constants per code path: AOT (``LongShortTermTransformer``) and DeAOT (``DualBranchGPM``).
_FAMILY_CONSTANTS: dict[str, dict[str, float]] = {
    "aot": {"penalty_slope": 10.0, "penalty_threshold": 0.4, "relevance_weight": 4.0},
    "deaot": {"penalty_slope": 7.0, "penalty_threshold": 0.25, "relevance_weight": 2.0},
}


@dataclass(frozen=True)
class EMFSConfig(RelevanceConfig, tag="emfs"):
    """EMFS constants; ``auto`` (default) takes the model family's reference value.

    Attributes:
        penalty_slope: ``k`` of the sigmoid penalty (AOT 10, DeAOT 7).
        penalty_threshold: ``t``, the redundancy at which the penalty is 0.5 (AOT 0.4, DeAOT 0.25).
        relevance_weight: ``w``, the weight of the moving-mean relevance in the score (AOT 4, DeAOT 2).
        redundancy_decimals: decimals the normalised redundancy is rounded to (half to even, float32; reference 4).
    """

    penalty_slope: Union[float, Auto] = AUTO
    penalty_threshold: Union[float, Auto] = AUTO
    relevance_weight: Union[float, Auto] = AUTO
    redundancy_decimals: int = 4

    def family_values(self, family: ModelFamily) -> dict[str, Any]:
        """Reference settings: AOT (10, 0.4, 4) scoring on overflow; DeAOT (7, 0.25, 2) scoring at every insertion."""
        return {**super().family_values(family), **_FAMILY_CONSTANTS[family]}


def redundancy(similarity: Tensor, decimals: int) -> Tensor:
    """Normalised, rounded row sums of a key-similarity matrix (float32, on its device, no host sync).

    ``c_i = sum_j S[i, j]`` (diagonal already zeroed); ``q_i = round(c_i / sum_j c_j, decimals)``, or 0 for every
    frame if the total is 0.

    Args:
        similarity: ``(T, T)`` from :func:`aot_plus.memory.evidence.key_similarity`.
        decimals: decimals to round to.

    Returns:
        ``(T,)`` float32.
    """
    rows = similarity.float().sum(dim=1)
    total = rows.sum()
    share = torch.round(rows / total, decimals=decimals)
    return torch.where(total != 0, share, torch.zeros_like(share))


class EMFSPolicy(RelevancePolicy, config=EMFSConfig):
    """Weighted moving-mean relevance + redundancy penalty; evicts the lowest score among the unprotected frames."""

    needs = frozenset({"attention", "foreground", "keys"})
    cfg: EMFSConfig

    def _device_terms(self, evidence: Evidence) -> list[Tensor]:
        similarity = evidence.key_similarity
        if similarity is None:
            similarity = key_similarity(evidence.keys)
        num_candidates = evidence.attention_mass.shape[1]
        if similarity.shape != (num_candidates, num_candidates):
            raise ValueError(f"EMFSPolicy: key similarity of shape {tuple(similarity.shape)} does not cover the "
                             f"{num_candidates} frames before the insertion")
        return [redundancy(similarity, self.cfg.redundancy_decimals)]

    def _score(self, frame_ids: tuple[int, ...], moving_mean: Tensor,
               device_terms: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        shares = device_terms[0]
        cfg = self.cfg
        penalty = 1.0 / (1.0 + torch.exp(cfg.penalty_slope * (shares.double() - cfg.penalty_threshold)))
        score = (cfg.relevance_weight * moving_mean).double() + penalty
        return {"redundancy": shares, "penalty": penalty}, score
