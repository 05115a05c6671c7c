"""Identity groups: videos with more objects than the model's identities (``docs/identities.md``).

Objects ``1 .. K`` are split into groups of ``n = max_obj_num``: group ``g`` tracks ids ``g n + 1 .. g n + n``
renumbered to ``1 .. n``. Each group runs its own propagation and memories; their probabilities are merged by the
reference's soft aggregation.
"""
from __future__ import annotations

import math
from typing import Sequence, Union

import torch
from torch import Tensor

from aot_plus.models.layers.basic import large_negative

IGNORE_LABEL = 255


def num_groups(num_objects: int, per_group: int) -> int:
    """``max(ceil(K / n), 1)``."""
    return max(math.ceil(num_objects / per_group), 1)


def group_object_count(num_objects: int, group: int, per_group: int) -> int:
    """Objects that group ``group`` actually tracks (the last group may hold fewer than ``per_group``)."""
    return max(min(num_objects - group * per_group, per_group), 0)


def mask_unused_identities(logits: Tensor, object_counts: Union[int, Tensor]) -> Tensor:
    """Silence the identity channels above each sample's object count (the reference's rule, in training and at
    inference with ``session.mask_unused_ids``; ``docs/masking.md``).

    Args:
        logits: ``[B, 1 + n, H, W]`` identity logits (channel 0 = background).
        object_counts: the object count of every sample, an int (same for all) or an int tensor ``[B]``.

    Returns:
        A new tensor: channels ``k > count`` hold :func:`~aot_plus.models.layers.basic.large_negative` of the
        logits' dtype, the others are unchanged.
    """
    channels = torch.arange(logits.shape[1], device=logits.device).view(1, -1, 1, 1)
    counts = object_counts.view(-1, 1, 1, 1) if isinstance(object_counts, Tensor) else object_counts
    return logits.masked_fill(channels > counts, large_negative(logits.dtype))


def group_label(label: Tensor, group: int, per_group: int) -> Tensor:
    """The label seen by group ``group``: its ids renumbered to ``1 .. n``, other objects 0, ignore (255) kept."""
    start = group * per_group + 1
    inside = (label >= start) & (label < start + per_group)
    out = torch.where(inside, label - start + 1, torch.zeros_like(label))
    return torch.where(label == IGNORE_LABEL, label, out)


def group_probabilities(probs: Tensor, group: int, per_group: int) -> Tensor:
    """Soft mask for group ``group`` from merged probabilities ``[B, 1 + G n, H, W]``: its foreground channels and a
    background of one minus their sum."""
    fg = probs[:, 1 + group * per_group:1 + (group + 1) * per_group]
    return torch.cat([1.0 - fg.sum(dim=1, keepdim=True), fg], dim=1)


def merge_probabilities(group_probs: Sequence[Tensor], eps: float = 1e-5) -> Tensor:
    """Soft aggregation of the groups' softmax outputs ``[B, 1 + n, H, W]``.

    Background = product of the groups' backgrounds, foregrounds concatenated in group order, clamped to
    ``[eps, 1 - eps]``, turned into logits and softmaxed again (the reference evaluator's softmax of the merged
    logits). A single group is returned unchanged.
    """
    if len(group_probs) == 1:
        return group_probs[0]
    background = torch.prod(torch.cat([p[:, :1] for p in group_probs], dim=1), dim=1, keepdim=True)
    merged = torch.cat([background] + [p[:, 1:] for p in group_probs], dim=1).clamp(eps, 1 - eps)
    return torch.softmax(torch.logit(merged), dim=1)
