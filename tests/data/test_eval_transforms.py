"""Test-time sizes, normalisation, flips and scales (docs/resizing.md)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aot_plus.data import eval_size, prepare_frame, prepare_label, test_time_views


@pytest.mark.parametrize("size, scale, expected", [
    ((1080, 1920), 1.0, (577, 1041)), ((720, 1280), 1.0, (577, 1041)), ((1440, 1920), 1.0, (785, 1041)),
    ((480, 854), 1.0, (481, 849)), ((600, 800), 1.0, (593, 801)), ((120, 160), 1.0, (113, 161)),
    ((1080, 1920), 1.2, (705, 1249)), ((1080, 1920), 0.8, (465, 833)),
])
def test_eval_size_worked_examples(size, scale, expected) -> None:
    assert eval_size(*size, scale=scale) == expected


def test_eval_size_variants() -> None:
    assert eval_size(1080, 1920, align_corners=False) == (592, 1040)
    assert eval_size(481, 849) == (481, 849)
    assert eval_size(1080, 1920, max_long_side=None) == (1073, 1921)
    assert eval_size(1080, 1920, min_short_side=480) == (481, 849)
    assert eval_size(240, 320, min_short_side=480) == (241, 321)


def test_prepare_frame_normalises_and_flips() -> None:
    image = np.zeros((5, 7, 3), np.float32)
    image[:, 0] = (255.0, 0.0, 127.5)
    tensor = prepare_frame(image, (5, 7))
    assert tensor.shape == (1, 3, 5, 7) and tensor.dtype == torch.float32
    expected = torch.tensor([(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.5 - 0.406) / 0.225])
    assert torch.allclose(tensor[0, :, 2, 0], expected, atol=1e-5)
    flipped = prepare_frame(image, (5, 7), flip=True)
    assert torch.equal(flipped[0, :, :, 6], tensor[0, :, :, 0])
    assert prepare_frame(image, (9, 13)).shape == (1, 3, 9, 13)


def test_views_order_and_sizes() -> None:
    image = np.random.default_rng(0).uniform(0, 255, (120, 160, 3)).astype(np.float32)
    views = test_time_views(image, [(1.0, False), (1.0, True), (1.5, False), (1.5, True)])
    assert [(v.scale, v.flip) for v in views] == [(1.0, False), (1.0, True), (1.5, False), (1.5, True)]
    assert [tuple(v.image.shape[-2:]) for v in views] == [(113, 161), (113, 161), (177, 241), (177, 241)]
    assert torch.equal(views[1].image, views[0].image.flip(-1))


def test_prepare_label_nearest_and_flip() -> None:
    label = np.array([[0, 1], [2, 255]], np.uint8)
    out = prepare_label(label, (4, 4))
    assert out.dtype == torch.int64 and out.shape == (1, 1, 4, 4)
    assert out[0, 0].tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 255, 255], [2, 2, 255, 255]]
    assert prepare_label(label, flip=True)[0, 0].tolist() == [[1, 0], [255, 2]]
