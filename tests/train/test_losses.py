"""Losses against straightforward per-sample implementations of the rules in ``docs/training.md``."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from aot_plus.train.config import TrainConfig
from aot_plus.train.losses import (aux_loss_weight, combine_frame_loss, frame_loss_terms, mean_object_iou,
                                   soft_jaccard, top_k_cross_entropy, top_k_fraction)


def _masked_logits(b: int, h: int, w: int, obj_nums: list[int], seed: int = 0) -> torch.Tensor:
    logits = torch.randn(b, 11, h, w, generator=torch.Generator().manual_seed(seed))
    for i, k in enumerate(obj_nums):
        logits[i, k + 1:] = -1e10
    return logits


def _labels(b: int, h: int, w: int, obj_nums: list[int]) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    labels = torch.stack([torch.randint(0, k + 1, (h, w), generator=g) for k in obj_nums])
    labels[:, :2, :3] = 255
    return labels


def _reference_ce(logits, labels, obj_nums, fraction):
    out = []
    for i, k in enumerate(obj_nums):
        pix = F.cross_entropy(logits[i:i + 1, :k + 1], labels[i:i + 1], ignore_index=255, reduction="none").flatten()
        n = int(fraction * pix.numel())
        out.append(pix.topk(n).values.mean())
    return torch.stack(out)


def _reference_jaccard(logits, labels, obj_nums):
    out = []
    for i, k in enumerate(obj_nums):
        p = logits[i, :k + 1].softmax(0).reshape(k + 1, -1)
        y = labels[i].flatten()
        keep = y != 255
        p, y = p[:, keep], y[keep]
        losses = []
        for c in range(k + 1):
            g = (y == c).float()
            if g.sum() == 0:
                continue
            inter = (p[c] * g).sum()
            losses.append(1 - inter / (inter + (p[c] * (1 - g)).sum() + ((1 - p[c]) * g).sum() + 1e-6))
        out.append(torch.stack(losses).mean() if losses else torch.tensor(0.0))
    return torch.stack(out)


def test_top_k_and_jaccard_match_per_sample_reference():
    obj_nums = [1, 3, 10]
    logits = _masked_logits(3, 9, 7, obj_nums)
    labels = _labels(3, 9, 7, obj_nums)
    for fraction in (1.0, 0.15, 0.5):
        got = top_k_cross_entropy(logits, labels, fraction)
        assert torch.allclose(got, _reference_ce(logits, labels, obj_nums, fraction), atol=1e-6)
    got = soft_jaccard(logits, labels, torch.tensor(obj_nums))
    assert torch.allclose(got, _reference_jaccard(logits, labels, obj_nums), atol=1e-6)


def test_jaccard_all_ignored_is_zero_and_absent_classes_skipped():
    logits = _masked_logits(2, 4, 4, [2, 2])
    labels = torch.full((2, 4, 4), 255)
    labels[1, 0, 0] = 1  # only class 1 present in sample 1
    got = soft_jaccard(logits, labels, torch.tensor([2, 2]))
    assert got[0] == 0.0
    p1 = logits[1, :3, 0, 0].softmax(0)[1]
    assert got[1] == pytest.approx(float(1 - p1 / (p1 + 0 + (1 - p1) + 1e-6)), abs=1e-6)


def test_schedules():
    cfg = TrainConfig()
    assert top_k_fraction(0, cfg) == 1.0
    assert top_k_fraction(5000, cfg) == pytest.approx(0.575, abs=1e-8)
    assert top_k_fraction(10000, cfg) == pytest.approx(0.15, abs=1e-8)
    assert top_k_fraction(15000, cfg) == 0.15
    assert aux_loss_weight(0, cfg) == 1.0
    assert aux_loss_weight(10000, cfg) == pytest.approx(0.5)
    assert 0 < aux_loss_weight(20000, cfg) < 1e-9
    assert aux_loss_weight(3000, TrainConfig(aux_loss_ratio=0.1)) == 0.0


def test_frame_loss_weights_and_iou():
    cfg = TrainConfig()
    obj = torch.tensor([2, 1])
    logits = _masked_logits(2, 6, 6, [2, 1])
    labels = _labels(2, 6, 6, [2, 1])
    ce, jaccard = frame_loss_terms(logits, labels, obj, 0, cfg)
    assert torch.equal(ce, top_k_cross_entropy(logits, labels, 1.0))
    assert torch.equal(jaccard, soft_jaccard(logits, labels, obj))
    expected = 0.5 * top_k_cross_entropy(logits, labels, 1.0) + 0.5 * soft_jaccard(logits, labels, obj)
    assert torch.allclose(combine_frame_loss(ce, jaccard, cfg), expected)
    pred = torch.zeros(2, 2, 2, dtype=torch.long)
    gt = torch.zeros(2, 2, 2, dtype=torch.long)
    pred[0, 0, 0] = gt[0, 0, 0] = 1  # object 1: IoU 1; object 2 absent in both: (0 + eps) / (0 + eps) = 1
    gt[1, 1, 1] = 1  # object 1 missed: IoU ~ 0
    assert float(mean_object_iou(pred, gt, obj)) == pytest.approx(0.5, abs=1e-5)
    assert float(mean_object_iou(pred, gt, torch.tensor([0, 0]))) == 1.0
