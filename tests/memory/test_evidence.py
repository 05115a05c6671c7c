"""Evidence helpers: attention mass per frame, foreground probability, relevance and key similarity."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aot_plus.memory import Evidence, foreground_probability, frame_attention_mass, key_similarity, relevance


def test_frame_attention_mass_matches_explicit_sums():
    generator = torch.Generator().manual_seed(0)
    heads, tokens, frames = 3, 5, 4
    probs = torch.softmax(torch.randn(1, heads, tokens, frames * tokens, generator=generator), dim=-1)
    mass = frame_attention_mass(probs, frames)
    assert mass.shape == (tokens, frames)
    expected = torch.zeros(tokens, frames, dtype=torch.float64)
    for p in range(tokens):
        for t in range(frames):
            expected[p, t] = probs[0, :, p, t * tokens:(t + 1) * tokens].double().sum() / heads
    assert torch.allclose(mass.double(), expected, atol=1e-6)
    assert torch.allclose(mass.sum(dim=1), torch.ones(tokens), atol=1e-6)


def test_frame_attention_mass_rejects_bad_shapes():
    with pytest.raises(ValueError, match="batch size 1"):
        frame_attention_mass(torch.ones(2, 1, 3, 6), 2)
    with pytest.raises(ValueError, match="does not split"):
        frame_attention_mass(torch.ones(1, 1, 3, 7), 2)


def test_foreground_probability_is_one_minus_background_at_the_grid():
    logits = torch.zeros(1, 3, 5, 5)
    logits[0, 0, :, :2] = 10.0  # background wins on the two left columns
    foreground = foreground_probability(logits, (3, 3))
    assert foreground.shape == (9,)
    grid = foreground.view(3, 3)
    # align_corners=True: grid columns sample input columns 0, 2, 4.
    assert torch.allclose(grid[:, 0], torch.full((3,), 2 / (2 + np.exp(10.0))), atol=1e-7)
    assert torch.allclose(grid[:, 1:], torch.full((3, 2), 2 / 3))
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):
        foreground_probability(torch.zeros(2, 3, 5, 5), (3, 3))


def test_relevance_weights_by_foreground_and_normalises():
    mass = torch.tensor([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    foreground = torch.tensor([0.0, 1.0, 0.5])
    expected = torch.tensor([0.9 + 0.1, 0.1 + 0.4])
    assert torch.allclose(relevance(mass, foreground), expected / expected.sum())
    assert relevance(mass, foreground).dtype == torch.float32
    assert torch.isnan(relevance(mass, torch.zeros(3))).all()
    with pytest.raises(ValueError, match="attention mass"):
        relevance(mass, torch.ones(2))


@pytest.mark.parametrize("batch", [1, 2])
def test_key_similarity_against_float64_direct(batch):
    generator = torch.Generator().manual_seed(batch)
    frames, tokens, channels = 5, 12, 8
    keys = torch.randn(frames, tokens, batch, channels, generator=generator) * 3 + 1
    keys[2, :, 0, 3] = 0.0  # a zero profile: the 1e-12 clamp keeps it at zero instead of NaN
    similarity = key_similarity(keys)
    k = keys.double().numpy()
    expected = np.zeros((frames, frames))
    for i in range(frames):
        for j in range(frames):
            if i == j:
                continue
            for b in range(batch):
                for c in range(channels):
                    u, v = k[i, :, b, c], k[j, :, b, c]
                    nu, nv = max(np.linalg.norm(u), 1e-12), max(np.linalg.norm(v), 1e-12)
                    expected[i, j] += (u / nu) @ (v / nv)
    assert similarity.shape == (frames, frames)
    np.testing.assert_allclose(similarity.double().numpy(), expected, atol=2e-5)
    assert torch.equal(similarity.diagonal(), torch.zeros(frames))


def test_evidence_provides():
    evidence = Evidence(attention_mass=torch.ones(2, 1), key_similarity=torch.zeros(1, 1))
    assert evidence.provides("attention") and evidence.provides("keys") and not evidence.provides("foreground")
    with pytest.raises(ValueError, match="unknown evidence kind"):
        evidence.provides("logits")
