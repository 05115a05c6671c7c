"""Typed settings of a per-video session (what the reference hard-codes in its engines and evaluators)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SessionConfig:
    """How a :class:`~aot_plus.engine.session.VideoSession` runs one video.

    Attributes:
        mask_unused_ids: set the logits of identity channels above each group's object count to a large negative
            value before the softmax (aot-benchmark). False is the RMem/EMFS reference-compatible mode: every
            group is told it holds the maximum number of objects, so probability spreads over all identity
            channels and the argmax may name an id without an object (``docs/identities.md``).
        new_reference: what a reference frame added after the first does to the memories. ``append``
            (aot-benchmark): the frame becomes the newest long-term entry and the short-term memory, older
            memories stay. ``reset`` (RMem/EMFS evaluator): the memories restart from this frame and the policy's
            statistics are cleared (``docs/memory-schedule.md``).
        short_term_skip: the short-term memory is the frame this many memory updates back (reference 1: the
            previous frame).
    """

    mask_unused_ids: bool = False
    new_reference: Literal["append", "reset"] = "append"
    short_term_skip: int = 1

    def __post_init__(self) -> None:
        if self.new_reference not in ("append", "reset"):
            raise ValueError(f"session.new_reference must be 'append' or 'reset', got {self.new_reference!r}")
        if self.short_term_skip < 1:
            raise ValueError(f"session.short_term_skip must be >= 1, got {self.short_term_skip}")
