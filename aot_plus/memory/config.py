"""Typed configuration of the memory (the ``memory`` section): bank bounds, long-term gap and eviction policy.

The policy config classes live next to their policies (``aot_plus/memory/policies/<name>.py``) and are re-exported
here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal, Optional, Union

from aot_plus.memory.policies import ModelFamily, PolicyConfig
from aot_plus.memory.policies.emfs import EMFSConfig
from aot_plus.memory.policies.fifo import FifoConfig
from aot_plus.memory.policies.relevance import RelevanceConfig
from aot_plus.memory.policies.rmem import RMemConfig
from aot_plus.memory.policies.unbounded import UnboundedConfig


@dataclass(frozen=True)
class LongTermGapConfig:
    """How often a frame enters the long-term memory: frames 0, gap, 2 * gap, ... (``docs/memory-schedule.md``).

    Attributes:
        mode: ``fixed`` uses ``value``; ``per_sequence`` is the reference evaluator's rule
            ``max(round(num_frames / frames_per_step), minimum)`` with Python's round (half to even), where
            ``num_frames`` is the length of the video as read (VOST: the 10 fps frame list).
        value: the gap in ``fixed`` mode (the reference trains with 4).
        frames_per_step: divisor of the per-sequence rule (reference 30).
        minimum: lower bound of the per-sequence rule (reference 5).
    """

    mode: Literal["fixed", "per_sequence"] = "per_sequence"
    value: int = 5
    frames_per_step: int = 30
    minimum: int = 5

    def __post_init__(self) -> None:
        for key in ("value", "frames_per_step", "minimum"):
            if getattr(self, key) < 1:
                raise ValueError(f"memory.long_term_gap.{key} must be >= 1, got {getattr(self, key)}")


@dataclass(frozen=True)
class MemoryConfig:
    """The memory section: what the long-term bank may hold and which policy decides.

    Attributes:
        reference_frames: leading bank positions reserved for reference frames (reference ``FORMER_MEM_LEN``).
        max_recent_frames: frames kept besides them (reference ``LATTER_MEM_LEN``; 8 in the published runs);
            None = unbounded. Ignored by the ``unbounded`` policy.
        long_term_gap: the gap rule; an integer ``N`` is shorthand for ``{mode: fixed, value: N}``.
        policy: the eviction policy and its constants (``name`` picks it: ``unbounded``, ``fifo``, ``rmem``,
            ``emfs`` or any registered policy).
        storage: ``growing`` stacks the kept frames into tensors of ``T`` frames (:class:`MemoryBank`); ``static``
            preallocates ``capacity`` slots per layer, writes in place and masks the empty slots
            (:class:`StaticMemoryBank`, ``docs/static-memory.md``): every frame step has the same shapes, so it can
            be compiled once. Same outputs; needs a bounded policy; inference only (in-place writes).
    """

    reference_frames: int = 1
    max_recent_frames: Optional[int] = 8
    long_term_gap: Union[int, LongTermGapConfig] = field(default_factory=LongTermGapConfig)
    policy: PolicyConfig = field(default_factory=FifoConfig)
    storage: Literal["growing", "static"] = "growing"

    def __post_init__(self) -> None:
        if self.reference_frames < 1:
            raise ValueError(f"memory.reference_frames must be >= 1, got {self.reference_frames}")
        if self.max_recent_frames is not None and self.max_recent_frames < 1:
            raise ValueError(f"memory.max_recent_frames must be >= 1 or null (unbounded), got {self.max_recent_frames}")
        if isinstance(self.long_term_gap, int):
            object.__setattr__(self, "long_term_gap", LongTermGapConfig(mode="fixed", value=self.long_term_gap))
        if self.storage == "static" and self.capacity is None:
            raise ValueError("memory.storage 'static' needs a bounded memory (memory.max_recent_frames set and a "
                             f"policy other than unbounded), got policy {self.policy.name!r} and max_recent_frames "
                             f"{self.max_recent_frames}")

    def resolve(self, family: ModelFamily) -> "MemoryConfig":
        """This config with the policy's ``auto`` constants set to the model family's reference values."""
        policy = self.policy.resolve(family)
        return self if policy is self.policy else dataclasses.replace(self, policy=policy)

    @property
    def capacity(self) -> Optional[int]:
        """Most frames the long-term bank holds after an eviction (reference + recent), None when unbounded."""
        if self.max_recent_frames is None or isinstance(self.policy, UnboundedConfig):
            return None
        return self.reference_frames + self.max_recent_frames


def resolve_gap(cfg: Union[MemoryConfig, LongTermGapConfig], num_frames: Optional[int] = None) -> int:
    """The long-term gap for a video of ``num_frames`` frames.

    Args:
        cfg: the memory config or its ``long_term_gap``.
        num_frames: length of the video as read; required in ``per_sequence`` mode.

    Examples (per-sequence defaults): 600 frames -> 20; 75 -> round(2.5) = 2 -> 5; 195 -> round(6.5) = 6.
    """
    gap = cfg.long_term_gap if isinstance(cfg, MemoryConfig) else cfg
    if gap.mode == "fixed":
        return gap.value
    if num_frames is None or num_frames < 1:
        raise ValueError("memory.long_term_gap.mode 'per_sequence' needs the video length, "
                         f"got num_frames={num_frames}")
    return max(int(round(num_frames / gap.frames_per_step)), gap.minimum)


__all__ = ["EMFSConfig", "FifoConfig", "LongTermGapConfig", "MemoryConfig", "PolicyConfig", "RMemConfig",
           "RelevanceConfig", "UnboundedConfig", "resolve_gap"]
