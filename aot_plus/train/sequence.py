"""The training forward over a batch of clips (``docs/training.md``).

:class:`SequenceTrainer` drives the network through the same frame API as the inference session (``encode``,
``identity_map`` / ``embed_identity``, ``propagate``, ``decode``, ``memorize``) and keeps its memories in the same
memory state, :class:`~aot_plus.engine.video_memory.VideoMemory`, with the training-time rules:

* all frames of the clips are encoded in one pass;
* identity shuffling: per sample a permutation of the identity slots 1..10 (background fixed), random unless one is
  given, is applied to every mask before the identity bank and undone on the logits before the losses;
* frame 0 (reference) enters with its ground truth, void pixels giving an all-zero identity input (the
  reference's quirk); its own decoded prediction gives the auxiliary loss;
* frames 1..L-1 are propagated against the memory and decoded; each gets the frame loss;
* after frame t (t < L-1) its memory entries are computed from its ground truth with the ignore channel (teacher
  forcing) or, from ``seq_training_start`` on, from the model's own arg-max with every identity embedding
  detached; frame t enters the long-term memory when ``t - last >= long_term_gap``, and the configured policy
  bounds the bank without evidence (FIFO where the policy would read evidence, as the reference trainer);
* memories are not detached: gradients flow through the whole unrolled clip.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aot_plus.engine.groups import mask_unused_identities
from aot_plus.engine.video_memory import VideoMemory
from aot_plus.memory import MemoryBank, build_policy
from aot_plus.memory.config import MemoryConfig
from aot_plus.models.config import ModelConfig
from aot_plus.train.config import TrainConfig
from aot_plus.train.losses import aux_loss_weight, combine_frame_loss, frame_loss_terms, mean_object_iou


@dataclass(frozen=True)
class Clip:
    """A batch of training clips on the training device.

    Attributes:
        images: ``[L, B, 3, H, W]`` normalised images, frame 0 = reference.
        labels: ``[L, B, H, W]`` int64 ids (255 = void).
        obj_nums: ``[B]`` int64 object count of each sample.
    """

    images: Tensor
    labels: Tensor
    obj_nums: Tensor


def clip_to_device(batch: dict[str, Any], device: torch.device) -> Clip:
    """Turn a collated training batch (``images [B, L, 3, H, W]``, ``labels [B, L, 1, H, W]``, ``obj_num [B]``)
    into a time-major :class:`Clip` on ``device``."""
    non_blocking = device.type == "cuda"
    images = batch["images"].to(device, non_blocking=non_blocking).transpose(0, 1)
    labels = batch["labels"].to(device, non_blocking=non_blocking).squeeze(2).transpose(0, 1).long()
    obj_nums = batch["obj_num"].to(device, non_blocking=non_blocking).long().view(-1)
    return Clip(images=images, labels=labels, obj_nums=obj_nums)


@dataclass(frozen=True)
class StepOutput:
    """Losses of one training step (tensors keep their graph only in ``loss``'s ancestry).

    Attributes:
        loss: ``aux_weight * aux_loss + pred_loss`` (scalar, with gradient).
        aux_loss: batch mean of the reference frame's loss.
        pred_loss: mean of the frame losses of frames 1..L-1 over frames and samples.
        aux_weight: the auxiliary weight used (a Python float).
        frame_losses: ``[L]`` batch-mean loss per frame (frame 0: the auxiliary loss), detached.
        iou: mean object IoU of the predictions of frames 1..L-1 (detached scalar).
        cross_entropy: ``[L, B]`` unweighted top-k cross-entropy per frame and sample, detached.
        jaccard: ``[L, B]`` unweighted soft Jaccard loss per frame and sample, detached.
        logits: ``[L, B, 1 + n, H, W]`` detached logits at label resolution (identities un-shuffled, unused ones
            masked) when the forward was asked to keep them, else None.
    """

    loss: Tensor
    aux_loss: Tensor
    pred_loss: Tensor
    aux_weight: float
    frame_losses: Tensor
    iou: Tensor
    cross_entropy: Tensor
    jaccard: Tensor
    logits: Optional[Tensor] = None


class SequenceTrainer(nn.Module):
    """Wraps a network for training on clips; ``forward`` returns a :class:`StepOutput`.

    This is the training engine (the module DDP wraps), not a network layer: the network is its ``model``
    attribute, and it keeps no state across calls (each call builds its own memory state).

    Args:
        model: the AOT/DeAOT network (:class:`~aot_plus.models.vos.VOSModel`).
        model_cfg: the model section (identity count, family for the policy's ``auto`` constants).
        memory_cfg: the memory section (training bank bounds and eviction policy).
        train_cfg: the train section.
        bank_factory: makes the storage of each call's memory (default :class:`~aot_plus.memory.MemoryBank`).
    """

    def __init__(self, model: nn.Module, model_cfg: ModelConfig, memory_cfg: MemoryConfig,
                 train_cfg: TrainConfig, bank_factory: Callable[[], MemoryBank] = MemoryBank) -> None:
        super().__init__()
        self.model = model
        self.num_ids = model_cfg.max_obj_num
        self.memory_cfg = memory_cfg.resolve(model_cfg.family)
        self.bank_factory = bank_factory
        self.cfg = train_cfg

    def new_memory(self) -> VideoMemory:
        """The memory state of one call: the configured policy, the training gap, no evidence recorded."""
        return VideoMemory(build_policy(self.memory_cfg), self.cfg.long_term_gap, bank=self.bank_factory(),
                           records_evidence=False)

    def _permutation(self, batch: int, device: torch.device) -> Optional[Tensor]:
        """``[B, num_ids + 1]``: ``perm[b, k]`` is the slot of object k (``perm[b, 0] = 0``), or None."""
        if not self.cfg.id_shuffle:
            return None
        perms = [torch.cat([torch.zeros(1, dtype=torch.long), torch.randperm(self.num_ids) + 1]) for _ in range(batch)]
        return torch.stack(perms).to(device)

    def _identity(self, labels: Tensor, perm: Optional[Tensor], with_ignore: bool, detach: bool) -> Tensor:
        """Identity embedding ``[L', B, C]`` of hard labels ``[B, H, W]`` (slots shuffled by ``perm``)."""
        ids = labels
        if perm is not None:
            lut = torch.cat([perm, perm.new_full((perm.shape[0], 256 - perm.shape[1]), 255)], dim=1)
            ids = lut.gather(1, labels.clamp(0, 255).flatten(1)).view_as(labels)
        classes = torch.arange(self.num_ids + 1, device=labels.device).view(1, -1, 1, 1)
        onehot = (ids.unsqueeze(1) == classes).float()
        ignore = (labels == 255).unsqueeze(1).float() if with_ignore else None
        emb = self.model.embed_identity(self.model.identity_map(onehot, ignore))
        return emb.detach() if detach else emb

    def _logits(self, feats: list[Tensor], stack: Any, perm: Optional[Tensor], obj_nums: Tensor,
                size: tuple[int, int]) -> Tensor:
        """Decoded logits at label resolution, slots un-shuffled and unused identities masked."""
        logits = self.model.decode(feats, stack)
        if perm is not None:
            index = perm.view(*perm.shape, 1, 1).expand(-1, -1, *logits.shape[-2:])
            logits = logits.gather(1, index)
        logits = mask_unused_identities(logits, obj_nums)
        return F.interpolate(logits, size=size, mode="bilinear", align_corners=self.model.align_corners)

    def forward(self, images: Tensor, labels: Tensor, obj_nums: Tensor, step: int,
                id_permutation: Optional[Tensor] = None, keep_logits: bool = False) -> StepOutput:
        """One training forward pass over a batch of clips.

        Args:
            images: ``[L, B, 3, H, W]`` normalised frames, frame 0 the reference.
            labels: ``[L, B, H, W]`` int64 ids (255 = void).
            obj_nums: ``[B]`` object count of each sample.
            step: the global step before this update (drives the schedules).
            id_permutation: ``[B, num_ids + 1]`` identity slots to use instead of a random shuffle
                (``perm[b, k]`` = slot of object k, ``perm[b, 0] = 0``); no random number is drawn for it. Ignored
                when ``train.id_shuffle`` is off.
            keep_logits: also return every frame's detached logits (:attr:`StepOutput.logits`).

        Returns:
            The losses, the per-frame cross-entropy and Jaccard terms, the IoU and (optionally) the logits.
        """
        num_frames, batch = images.shape[:2]
        size = tuple(labels.shape[-2:])
        cfg = self.cfg
        own_predictions = step >= cfg.seq_training_start
        aux_weight = aux_loss_weight(step, cfg)
        encoded = self.model.encode(images.flatten(0, 1))
        frames = [[f.view(num_frames, batch, *f.shape[1:])[t] for f in encoded] for t in range(num_frames)]
        perm = None
        if cfg.id_shuffle:
            perm = self._permutation(batch, images.device) if id_permutation is None else id_permutation.to(
                images.device)

        ref_id = self._identity(labels[0], perm, with_ignore=False, detach=own_predictions)
        stack = self.model.propagate(frames[0], id_emb=ref_id)
        memory = self.new_memory()
        memory.write_reference(0, *self.model.memorize(stack, ref_id))
        with torch.set_grad_enabled(torch.is_grad_enabled() and aux_weight > 0):
            ref_logits = self._logits(frames[0], stack, perm, obj_nums, size)
            ref_ce, ref_jaccard = frame_loss_terms(ref_logits, labels[0], obj_nums, step, cfg)
            aux = combine_frame_loss(ref_ce, ref_jaccard, cfg).mean()

        losses, ious, terms = [], [], [(ref_ce.detach(), ref_jaccard.detach())]
        kept = [ref_logits.detach()] if keep_logits else []
        for t in range(1, num_frames):
            stack = self.model.propagate(frames[t], long_memories=memory.long_term(),
                                         short_memories=memory.short_term())
            logits = self._logits(frames[t], stack, perm, obj_nums, size)
            ce, jaccard = frame_loss_terms(logits, labels[t], obj_nums, step, cfg)
            losses.append(combine_frame_loss(ce, jaccard, cfg))
            terms.append((ce.detach(), jaccard.detach()))
            if keep_logits:
                kept.append(logits.detach())
            pred = logits.detach().argmax(dim=1)
            ious.append(mean_object_iou(pred, labels[t], obj_nums))
            if t == num_frames - 1:
                break
            if own_predictions:
                frame_id = self._identity(pred, perm, with_ignore=False, detach=True)
            else:
                frame_id = self._identity(labels[t], perm, with_ignore=True, detach=False)
            memory.write(t, *self.model.memorize(stack, frame_id))

        per_frame = torch.stack(losses)
        pred_loss = per_frame.mean()
        frame_losses = torch.cat([aux.detach().view(1), per_frame.detach().mean(dim=1)])
        return StepOutput(loss=aux_weight * aux + pred_loss, aux_loss=aux.detach(), pred_loss=pred_loss.detach(),
                          aux_weight=aux_weight, frame_losses=frame_losses, iou=torch.stack(ious).mean(),
                          cross_entropy=torch.stack([ce for ce, _ in terms]),
                          jaccard=torch.stack([jaccard for _, jaccard in terms]),
                          logits=torch.stack(kept) if keep_logits else None)
