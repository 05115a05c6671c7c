"""weights_digest covers every state entry, including BatchNorm's 0-dim num_batches_tracked (learning BN)."""
from __future__ import annotations

import torch

from aot_plus.train.loop import weights_digest


def test_digest_of_a_model_with_learning_batchnorm():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    assert model[1].num_batches_tracked.dim() == 0
    before = weights_digest(model)
    assert len(before) == 64 and before == weights_digest(model)
    model[1].num_batches_tracked += 1  # only the 0-dim buffer changes
    after_count = weights_digest(model)
    assert after_count != before
    model(torch.randn(2, 3, 8, 8))  # a training forward updates the running statistics
    assert weights_digest(model) not in (before, after_count)
