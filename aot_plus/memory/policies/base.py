"""The eviction-policy interface, the policy config family and the policy registry.

A policy decides, owns no tensors: after every long-term insertion the session calls
:meth:`EvictionPolicy.after_insert` with the bank's frame indices (the new frame last) and the evidence the policy
asked for, and removes the bank position it returns. Policies keep their own statistics (keyed by frame index)
and can be :meth:`EvictionPolicy.reset` for a new video.
"""
from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Optional, Sequence

from torch import Tensor

from aot_plus.config import Tagged
from aot_plus.memory.evidence import EVIDENCE_KINDS, Evidence

#: The two reference code paths whose policy constants and schedules differ (AOT's ``LongShortTermTransformer``
#: and DeAOT's ``DualBranchGPM``).
ModelFamily = Literal["aot", "deaot"]

#: The value of a policy constant that follows the model family (resolved by :meth:`PolicyConfig.resolve`).
AUTO = "auto"
Auto = Literal["auto"]


@dataclass(frozen=True)
class PolicyConfig(Tagged):
    """Root of the policy config family: ``memory.policy.name`` picks the variant (``fifo`` by default).

    A constant whose reference value differs between the AOT and DeAOT code paths defaults to ``auto``; the
    experiment config replaces it with the model family's value when it is built (:meth:`resolve`), and an explicit
    value is kept as given. A policy cannot be built from a config that still holds ``auto`` (see
    ``docs/memory-policies.md``).
    """

    name: str = "fifo"

    def family_values(self, family: ModelFamily) -> dict[str, Any]:
        """The reference value, on the model family's code path, of every field that may be ``auto``."""
        return {}

    def resolve(self, family: ModelFamily) -> "PolicyConfig":
        """This config with every ``auto`` field replaced by the model family's reference value."""
        check_family(family)
        values = self.family_values(family)
        changes = {key: values[key] for key in self.unresolved()}
        return dataclasses.replace(self, **changes) if changes else self

    def unresolved(self) -> list[str]:
        """Names of the fields still set to ``auto``."""
        return [f.name for f in dataclasses.fields(self) if isinstance(getattr(self, f.name), str)
                and getattr(self, f.name) == AUTO]

    @classmethod
    def for_family(cls, family: ModelFamily) -> "PolicyConfig":
        """The default config of this policy resolved for the model family's code path."""
        return cls().resolve(family)


def check_family(family: str) -> None:
    """Raise a ValueError unless ``family`` is ``aot`` or ``deaot``."""
    if family not in ("aot", "deaot"):
        raise ValueError(f"unknown model family {family!r}; expected 'aot' or 'deaot'")


@dataclass(frozen=True)
class PolicyScores:
    """What a scoring policy computed at its last call (for tests, logging and plots), all on the CPU.

    Attributes:
        candidates: frame indices of the scored positions (the bank before the insertion).
        relevance: ``(T,)`` float32 normalised relevance of this call.
        moving_mean: ``(T,)`` float32 moving-mean relevance after this call.
        terms: the policy's other per-position terms (e.g. ``ucb_counts``, ``ucb_bonus``, ``redundancy``,
            ``penalty``), each ``(T,)``.
        score: ``(T,)`` final score (lowest among the evictable positions is evicted).
        position: the bank position chosen for eviction, or None if the bank did not overflow.
    """

    candidates: tuple[int, ...]
    relevance: Tensor
    moving_mean: Tensor
    terms: dict[str, Tensor] = field(default_factory=dict)
    score: Optional[Tensor] = None
    position: Optional[int] = None


_REGISTRY: dict[type, type["EvictionPolicy"]] = {}


class EvictionPolicy(abc.ABC):
    """Base of every eviction policy.

    Subclasses declare their config class in the class statement, which registers them::

        class FifoPolicy(EvictionPolicy, config=FifoConfig): ...

    Args:
        cfg: the policy's config (an instance of its registered config class).
        reference_frames: number of leading bank positions that hold reference frames (``FORMER_MEM_LEN``).
        capacity: the most frames the bank may hold after an eviction (reference + recent), None = unbounded.
    """

    #: Evidence kinds the policy reads (subset of ``{"attention", "foreground", "keys"}``).
    needs: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, config: Optional[type] = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = cls.needs - EVIDENCE_KINDS
        if unknown:
            raise TypeError(f"{cls.__name__}.needs lists unknown evidence {sorted(unknown)}")
        if config is not None:
            if not (isinstance(config, type) and issubclass(config, PolicyConfig)):
                raise TypeError(f"{cls.__name__}: config must be a PolicyConfig variant, got {config!r}")
            if config in _REGISTRY:
                raise TypeError(f"policy config {config.__name__} is registered twice "
                                f"({_REGISTRY[config].__name__}, {cls.__name__})")
            _REGISTRY[config] = cls

    def __init__(self, cfg: PolicyConfig, reference_frames: int, capacity: Optional[int]) -> None:
        if reference_frames < 1:
            raise ValueError(f"reference_frames must be >= 1, got {reference_frames}")
        if capacity is not None and capacity <= reference_frames:
            raise ValueError(f"capacity {capacity} must exceed reference_frames {reference_frames}")
        unresolved = cfg.unresolved()
        if unresolved:
            raise ValueError(f"memory.policy.{unresolved[0]} is still 'auto'; resolve the memory config for a model "
                             "family first (MemoryConfig.resolve, done when an experiment config is built)")
        self.cfg = cfg
        self.reference_frames = reference_frames
        self.capacity = capacity
        self.last_scores: Optional[PolicyScores] = None
        self.reset()

    def overflows(self, bank_size: int) -> bool:
        """Whether a bank of ``bank_size`` frames (after an insertion) exceeds the capacity."""
        return self.capacity is not None and bank_size > self.capacity

    def needs_evidence(self, bank_size: int) -> bool:
        """Whether the insertion that brings the bank to ``bank_size`` frames will read evidence.

        The session asks this *before* propagating a frame it will insert, so that attention is recorded only when
        it is used.
        """
        return False

    @abc.abstractmethod
    def after_insert(self, frame_ids: Sequence[int], evidence: Optional[Evidence] = None) -> Optional[int]:
        """React to an insertion.

        Args:
            frame_ids: the bank's frame indices in bank order, the frame just inserted last.
            evidence: what :attr:`needs` lists, from the propagation of the inserted frame over ``frame_ids[:-1]``;
                required only when :meth:`needs_evidence` said so.

        Returns:
            The bank position to remove (never the new frame), or None to keep everything.
        """

    def reset(self) -> None:
        """Forget all statistics (new video, or the memory was reset by a new reference); also called by
        ``__init__``, so a subclass initialises its statistics here."""
        self.last_scores = None


def policy_class(cfg: PolicyConfig) -> type[EvictionPolicy]:
    """The policy class registered for the config's class."""
    try:
        return _REGISTRY[type(cfg)]
    except KeyError:
        known = sorted(c.name for c in _REGISTRY)
        raise ValueError(f"no eviction policy is registered for config {type(cfg).__name__} "
                         f"(name {getattr(cfg, 'name', None)!r}); registered: {known}") from None


def registered_policies() -> dict[str, type[EvictionPolicy]]:
    """Every registered policy class by its config name."""
    return {config.name: policy for config, policy in _REGISTRY.items()}
