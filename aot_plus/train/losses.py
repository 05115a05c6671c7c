"""Training losses (``docs/training.md``): top-k cross-entropy with hard mining, soft Jaccard, the fading
auxiliary weight, and the logged IoU.

Shapes: logits ``[B, C, H, W]`` at label resolution (C = 11: background + 10 identities; channels above a
sample's object count already hold a large negative value, so a softmax over all C channels equals the
reference's softmax over the first K_b + 1); labels ``[B, H, W]`` integer, ``ignore_index`` = void.
Everything is computed in float32 and vectorised over the batch; the result is one loss per sample ``[B]``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from aot_plus.train.config import TrainConfig

#: Label value of void / ignored pixels.
IGNORE_INDEX = 255


def top_k_fraction(step: int, cfg: TrainConfig) -> float:
    """Fraction of pixels kept by the cross-entropy at ``step``: 1 at step 0, linearly down to
    ``top_k_percent_pixels`` at ``hard_mining_ratio * T``, then constant (reference arithmetic, + 1e-5)."""
    mining_steps = cfg.hard_mining_ratio * cfg.total_steps + 1e-5
    ratio = min(1.0, step / mining_steps)
    return ratio * cfg.top_k_percent_pixels + (1.0 - ratio)


def top_k_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, fraction: float,
                        ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Mean of the ``floor(fraction * H * W)`` largest per-pixel cross-entropies of each sample.

    Ignored pixels have loss 0 but stay in the pixel pool and in the count, as in the reference.

    Returns:
        ``[B]`` float32.
    """
    b = logits.shape[0]
    pixel = F.cross_entropy(logits.float(), labels.long(), ignore_index=ignore_index, reduction="none")
    pixel = pixel.reshape(b, -1)
    k = max(int(fraction * pixel.shape[1]), 1)
    if k >= pixel.shape[1]:
        return pixel.mean(dim=1)
    return pixel.topk(k, dim=1).values.mean(dim=1)


def soft_jaccard(logits: torch.Tensor, labels: torch.Tensor, obj_nums: torch.Tensor,
                 ignore_index: int = IGNORE_INDEX, eps: float = 1e-6) -> torch.Tensor:
    """Soft Jaccard (Tversky with alpha = beta = 1) over the classes present in each sample's ground truth.

    Per class c <= K_b with at least one labelled pixel: ``1 - I / (I + FP + FN + eps)`` with soft counts over the
    non-ignored pixels; the sample's loss is the mean over those classes (background included), 0 if none.

    Args:
        logits: ``[B, C, H, W]``.
        labels: ``[B, H, W]``.
        obj_nums: ``[B]`` object count K_b of each sample.

    Returns:
        ``[B]`` float32.
    """
    b, c = logits.shape[:2]
    probs = logits.float().softmax(dim=1).reshape(b, c, -1)
    flat = labels.reshape(b, 1, -1).long()
    valid = (flat != ignore_index).float()
    classes = torch.arange(c, device=logits.device).view(1, c, 1)
    truth = (flat == classes).float()
    probs = probs * valid
    inter = (probs * truth).sum(dim=2)
    false_pos = (probs * (1.0 - truth)).sum(dim=2)
    false_neg = ((1.0 - probs) * truth * valid).sum(dim=2)
    per_class = 1.0 - inter / (inter + false_pos + false_neg + eps)
    present = (truth.sum(dim=2) > 0) & (classes.view(1, c) <= obj_nums.view(b, 1).to(logits.device))
    count = present.sum(dim=1)
    total = (per_class * present).sum(dim=1)
    return torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))


def frame_loss_terms(logits: torch.Tensor, labels: torch.Tensor, obj_nums: torch.Tensor, step: int,
                     cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The two unweighted terms of a frame's loss per sample: top-k cross-entropy ``[B]`` and soft Jaccard ``[B]``."""
    return top_k_cross_entropy(logits, labels, top_k_fraction(step, cfg)), soft_jaccard(logits, labels, obj_nums)


def combine_frame_loss(ce: torch.Tensor, jaccard: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """``ce_weight * CE + jaccard_weight * Jaccard`` per sample."""
    return cfg.ce_weight * ce + cfg.jaccard_weight * jaccard



def aux_loss_weight(step: int, cfg: TrainConfig) -> float:
    """Weight of the reference-frame loss: ``w * max(R + 1e-5 - s, 0) / (R + 1e-5)``, R = aux_loss_ratio * T."""
    span = cfg.total_steps * cfg.aux_loss_ratio + 1e-5
    return cfg.aux_loss_weight * max(span - step, 0.0) / span


@torch.no_grad()
def mean_object_iou(pred: torch.Tensor, labels: torch.Tensor, obj_nums: torch.Tensor) -> torch.Tensor:
    """Logged IoU: per sample the mean over objects 1..K_b of ``(|P & G| + 1e-6) / (|P | G| + 1e-6)``.

    Void counts as non-object. Samples without objects are left out; 1 when none is left.

    Args:
        pred: ``[B, H, W]`` predicted ids.
        labels: ``[B, H, W]`` ground-truth ids.
        obj_nums: ``[B]``.

    Returns:
        a scalar tensor (no host synchronisation).
    """
    b = pred.shape[0]
    ids = torch.arange(1, 11, device=pred.device).view(1, 10, 1)
    p = pred.reshape(b, 1, -1) == ids
    g = labels.reshape(b, 1, -1) == ids
    inter = (p & g).sum(dim=2).float()
    union = (p | g).sum(dim=2).float()
    iou = (inter + 1e-6) / (union + 1e-6)
    used = ids.view(1, 10) <= obj_nums.view(b, 1).to(pred.device)
    per_sample = (iou * used).sum(dim=1) / used.sum(dim=1).clamp(min=1)
    has = used.any(dim=1)
    mean = (per_sample * has).sum() / has.sum().clamp(min=1)
    return torch.where(has.any(), mean, torch.ones_like(mean))
