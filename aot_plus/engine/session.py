"""One video's inference loop: reference frame(s), propagation, decoding and memory updates.

The session wires the network to one :class:`~aot_plus.engine.video_memory.VideoMemory` per identity group (the
same memory state the training forward uses; ``docs/memory-schedule.md``):

    add_reference(image, mask)        frame 0 (and later references): memories from the frame itself
    probs = step(image)                propagate over the memories, decode, return probabilities
    update(label_or_probs)             the frame's memories from its mask: short-term always, long-term every
                                       ``gap`` frames, then the policy may evict one frame

Objects beyond the model's identities are split into identity groups (:mod:`aot_plus.engine.groups`), each with
its own memory and policy. Evidence is recorded only when the policy will read it at this frame's insertion; the
only host-device synchronisation per frame is the policy's own scoring.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from aot_plus.engine.config import SessionConfig
from aot_plus.engine.frame_step import FrameStep
from aot_plus.engine.groups import (IGNORE_LABEL, group_label, group_object_count, group_probabilities,
                                    mask_unused_identities, merge_probabilities, num_groups)
from aot_plus.engine.video_memory import VideoMemory
from aot_plus.memory import Evidence, EvictionPolicy, MemoryBank, MemoryConfig, build_bank, build_policy, resolve_gap
from aot_plus.memory.evidence import foreground_probability
from aot_plus.models.layers.lstt import StackOutput
from aot_plus.models.vos import VOSModel

logger = logging.getLogger(__name__)


@dataclass
class _Pending:
    """What :meth:`VideoSession.step` leaves for :meth:`VideoSession.update` (per group)."""

    stack: StackOutput
    evidence: Optional[Evidence]


class _Group:
    """One identity group: its memory state, object count and the frame waiting for :meth:`VideoSession.update`."""

    def __init__(self, memory: VideoMemory) -> None:
        self.memory = memory
        self.num_objects = 0
        self.pending: Optional[_Pending] = None


class VideoSession:
    """Segment one video frame by frame with a fixed network and a memory policy.

    Args:
        model: the network, already on its device and in eval mode.
        memory: bank bounds, long-term gap and eviction policy.
        cfg: session settings (identity masking, later references, short-term skip).
        num_frames: length of the video; needed when the gap follows the per-sequence rule.
        bank_factory: makes the storage of each group's memory (default: the one ``memory.storage`` names, a
            growing :class:`~aot_plus.memory.MemoryBank` or a preallocated
            :class:`~aot_plus.memory.StaticMemoryBank`).
        frame_step: the network calls of a propagated frame (e.g. compiled, shared between sessions); default:
            eager calls of ``model``.

    The policy's ``auto`` constants are resolved from ``model.family`` (a config already resolved is kept).
    """

    def __init__(self, model: VOSModel, memory: MemoryConfig, cfg: SessionConfig = SessionConfig(),
                 num_frames: Optional[int] = None, bank_factory: Optional[Callable[[], MemoryBank]] = None,
                 frame_step: Optional[FrameStep] = None) -> None:
        self.model = model
        self.memory_cfg = memory.resolve(model.family)
        self.cfg = cfg
        self.gap = resolve_gap(memory, num_frames)
        self.bank_factory = bank_factory if bank_factory is not None else lambda: build_bank(self.memory_cfg)
        self.frame_step = frame_step if frame_step is not None else FrameStep(model)
        self._groups: list[_Group] = []
        self._frame_idx = -1
        self._num_objects = 0
        self._input_size: Optional[tuple[int, int]] = None

    @property
    def frame_idx(self) -> int:
        """Index of the last frame added or propagated (-1 before the first reference)."""
        return self._frame_idx

    @property
    def num_objects(self) -> int:
        """Objects tracked so far (the largest object id of the references)."""
        return self._num_objects

    @property
    def num_channels(self) -> int:
        """Channels of :meth:`step`'s output: background plus every identity of every group."""
        return 1 + len(self._groups) * self.model.max_obj_num

    @property
    def kept_frames(self) -> tuple[int, ...]:
        """Frame indices in the long-term memory (first group), in bank order."""
        return self._groups[0].memory.frame_ids if self._groups else ()

    @property
    def kept_frames_per_group(self) -> list[tuple[int, ...]]:
        """Frame indices in the long-term memory of every identity group."""
        return [group.memory.frame_ids for group in self._groups]

    @property
    def memories(self) -> list[VideoMemory]:
        """The memory state of every identity group."""
        return [group.memory for group in self._groups]

    @property
    def policies(self) -> list[EvictionPolicy]:
        """The eviction policy of every identity group (e.g. to read ``last_scores``)."""
        return [group.memory.policy for group in self._groups]

    def memory_bytes(self) -> int:
        """Bytes held by the long-term memories of all groups."""
        return sum(group.memory.bank.nbytes() for group in self._groups)

    def reset(self) -> None:
        """Forget everything (a new video)."""
        self._groups = []
        self._frame_idx = -1
        self._num_objects = 0
        self._input_size = None

    @torch.no_grad()
    def add_reference(self, image: Tensor, mask: Tensor, frame_idx: int = 0,
                      obj_ids: Optional[Sequence[int]] = None) -> None:
        """Add a frame with a known mask (frame 0, or a later frame that introduces objects).

        Args:
            image: normalised ``[1, 3, H, W]`` on the model's device.
            mask: label map (``[H, W]``, ``[1, H, W]`` or ``[1, 1, H, W]``; 0 = background, 1..K objects, 255
                ignored) covering every object tracked from this frame on; resized to ``H x W`` (nearest) if needed.
            frame_idx: the frame's index in the video.
            obj_ids: the object ids the mask annotates; None = every id present in it.
        """
        label = self._label_map(mask, tuple(image.shape[-2:]))
        if obj_ids is None:
            present = label[label != IGNORE_LABEL]
            count = int(present.max()) if present.numel() else 0
        else:
            count = max((int(i) for i in obj_ids), default=0)
        if self._groups and tuple(image.shape[-2:]) != self._input_size:
            raise ValueError(f"reference frame of size {tuple(image.shape[-2:])} differs from the earlier frames' "
                             f"{self._input_size}")
        self._num_objects = max(self._num_objects, count)
        self._input_size = tuple(image.shape[-2:])
        feats = self.frame_step.encode(image)
        per_group = self.model.max_obj_num
        while len(self._groups) < num_groups(self._num_objects, per_group):
            self._groups.append(_Group(VideoMemory(build_policy(self.memory_cfg), self.gap,
                                                   self.cfg.short_term_skip, self.bank_factory())))
        for index, group in enumerate(self._groups):
            onehot = self._onehot(group_label(label, index, per_group))
            # Reference quirk (docs/identities.md): the ignore map of a reference label is dropped.
            id_emb = self.model.embed_identity(self.model.identity_map(onehot))
            stack = self.model.propagate(feats, id_emb=id_emb)
            long_entries, short_entries = self.model.memorize(stack, id_emb)
            if len(group.memory) and self.cfg.new_reference == "reset":
                group.memory.reset()
            group.memory.write_reference(frame_idx, long_entries, short_entries)
            group.num_objects = group_object_count(self._num_objects, index, per_group)
            group.pending = None
        self._frame_idx = frame_idx
        logger.debug("reference frame %d: %d objects in %d group(s)", frame_idx, self._num_objects, len(self._groups))

    @torch.no_grad()
    def step(self, image: Tensor, output_size: Optional[tuple[int, int]] = None,
             frame_idx: Optional[int] = None) -> Tensor:
        """Propagate a frame over the memories and return its probabilities.

        Args:
            image: normalised ``[1, 3, H, W]`` (the size of the reference frames).
            output_size: ``(H', W')`` of the output (default: the input size); logits are resized bilinearly with
                the model's align_corners before the softmax.
            frame_idx: the frame's index (default: the previous index + 1).

        Returns:
            ``[1, num_channels, H', W']`` probabilities over the background and every identity channel (channels
            above the object count are 0 with ``mask_unused_ids``; otherwise they may win the argmax, as in RMem).
        """
        if not self._groups:
            raise RuntimeError("add a reference frame before propagating")
        if tuple(image.shape[-2:]) != self._input_size:
            raise ValueError(f"frame of size {tuple(image.shape[-2:])} differs from the reference frames' "
                             f"{self._input_size}; resize every frame of a video to one input size")
        self._frame_idx = self._frame_idx + 1 if frame_idx is None else frame_idx
        output_size = tuple(output_size) if output_size is not None else self._input_size
        feats = self.frame_step.encode(image)
        probs = []
        for group in self._groups:
            logits, group.pending = self._propagate_group(group, feats)
            logits = F.interpolate(logits, size=output_size, mode="bilinear", align_corners=self.model.align_corners)
            probs.append(torch.softmax(logits, dim=1))
        return merge_probabilities(probs)

    @torch.no_grad()
    def update(self, label_or_probs: Tensor) -> None:
        """Write the last propagated frame into the memories.

        Args:
            label_or_probs: the frame's hard label (``[H, W]``, ``[1, H, W]`` or ``[1, 1, H, W]``, ids as in
                :meth:`add_reference`) or soft probabilities ``[1, num_channels, H, W]`` (e.g. :meth:`step`'s
                output). Resized to the input size with nearest if needed.
        """
        if not self._groups or any(group.pending is None for group in self._groups):
            raise RuntimeError("update() needs a frame propagated by step() since the last reference or update")
        soft = label_or_probs.dim() == 4 and label_or_probs.shape[1] > 1
        if soft:
            probs = label_or_probs.float()
            if tuple(probs.shape[-2:]) != self._input_size:
                probs = F.interpolate(probs, size=self._input_size, mode="nearest")
        else:
            label = self._label_map(label_or_probs, self._input_size)
        per_group = self.model.max_obj_num
        for index, group in enumerate(self._groups):
            if soft:
                group_probs = probs if len(self._groups) == 1 else group_probabilities(probs, index, per_group)
                id_map = self.model.identity_map(group_probs)
            else:
                sub = group_label(label, index, per_group)
                id_map = self.model.identity_map(self._onehot(sub), (sub == IGNORE_LABEL)[None, None].float())
            self._memorize(group, self.model.embed_identity(id_map))

    def _propagate_group(self, group: _Group, feats: list[Tensor]) -> tuple[Tensor, _Pending]:
        memory = group.memory
        needs = memory.evidence_needed(self._frame_idx)
        long_term = memory.long_term()
        # A static-capacity bank has more slots than frames: a validity mask and temporal PE rows for every slot.
        filled, slots = len(memory), long_term[0][0].shape[0]
        tpe = self.model.temporal_pe(filled, slots)
        logits, stack = self.frame_step.propagate_decode(feats, long_term, memory.short_term(), "attention" in needs,
                                                         "keys" in needs, memory.slot_valid, tpe)
        if self.cfg.mask_unused_ids and group.num_objects < self.model.max_obj_num:
            logits = mask_unused_identities(logits, group.num_objects)
        evidence = None
        if needs:
            evidence = Evidence(
                attention_mass=stack.mass[0][..., :filled] if stack.mass is not None else None,
                foreground=(foreground_probability(logits, tuple(feats[-1].shape[-2:]))
                            if "foreground" in needs else None),
                keys=stack.keys[:filled] if stack.keys is not None else None)
        return logits, _Pending(stack, evidence)

    def _memorize(self, group: _Group, id_emb: Tensor) -> None:
        pending = group.pending
        long_entries, short_entries = self.model.memorize(pending.stack, id_emb)
        group.pending = None
        group.memory.write(self._frame_idx, long_entries, short_entries, pending.evidence)

    def _onehot(self, label: Tensor) -> Tensor:
        ids = torch.arange(self.model.max_obj_num + 1, device=label.device).view(1, -1, 1, 1)
        return (label[None, None] == ids).float()

    @staticmethod
    def _label_map(mask: Tensor, size: tuple[int, int]) -> Tensor:
        """``[H, W]`` integer label at ``size`` from a ``[H, W]``, ``[1, H, W]`` or ``[1, 1, H, W]`` mask."""
        if mask.dim() == 4 and mask.shape[:2] == (1, 1):
            mask = mask[0, 0]
        elif mask.dim() == 3 and mask.shape[0] == 1:
            mask = mask[0]
        if mask.dim() != 2:
            raise ValueError(f"a label map must be [H, W], [1, H, W] or [1, 1, H, W], got shape {tuple(mask.shape)}")
        if tuple(mask.shape) != tuple(size):
            mask = F.interpolate(mask[None, None].float(), size=size, mode="nearest")[0, 0]
        return mask.round().long() if mask.is_floating_point() else mask.long()
