"""Sine position embedding and temporal positional embedding (``docs/model.md``, ``docs/temporal-pe.md``)."""
import math

import numpy as np
import pytest
import torch

from aot_plus.models.layers.position import (TemporalPE, sine_position_embedding, sinusoidal_temporal_pe,
                                               temporal_pe_rows)

# docs/temporal-pe.md: bank positions 0..T-1 -> mem_pos_emb row, 4 slots.
SLOT_TABLE = {1: [0], 2: [0, 1], 3: [0, 1, 2], 4: [0, 1, 2, 3], 5: [0, 1, 2, 3, 3], 6: [0, 1, 1, 2, 3, 3],
              7: [0, 1, 1, 2, 2, 3, 3], 8: [0, 0, 1, 1, 2, 2, 3, 3], 9: [0, 0, 1, 1, 2, 2, 3, 3, 3],
              10: [0, 0, 1, 1, 1, 2, 2, 3, 3, 3], 12: [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]}


def _slots(rows: torch.Tensor) -> list[float]:
    return rows[:, 0].tolist()


@pytest.mark.parametrize("frames", sorted(SLOT_TABLE))
def test_four_slots_follow_the_spec_table(frames):
    mem = torch.arange(4, dtype=torch.float32)[:, None].repeat(1, 8)
    rows = temporal_pe_rows(mem, frames)
    assert rows.shape == (frames, 8)
    assert _slots(rows) == SLOT_TABLE[frames]


def test_large_banks_match_the_closed_form():
    mem = torch.arange(4, dtype=torch.float32)[:, None]
    for frames in range(5, 60):
        expected = [3 - math.floor((frames - 1 - j) * 4 / frames) for j in range(frames)]
        assert _slots(temporal_pe_rows(mem, frames)) == expected, frames


def test_two_slots_interpolate_then_stretch():
    mem = torch.tensor([[0.0], [1.0]])
    assert _slots(temporal_pe_rows(mem, 1)) == [0.0]
    assert _slots(temporal_pe_rows(mem, 2)) == [0.0, 1.0]
    np.testing.assert_allclose(_slots(temporal_pe_rows(mem, 3)), [0.0, 0.5, 1.0], atol=1e-7)
    np.testing.assert_allclose(_slots(temporal_pe_rows(mem, 4)), [0.0, 1 / 3, 2 / 3, 1.0], atol=1e-7)
    np.testing.assert_allclose(_slots(temporal_pe_rows(mem, 8)), [0, 0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 1, 1], atol=1e-7)


def test_temporal_pe_adds_rows_per_frame_and_to_query():
    tpe = TemporalPE(torch.full((1, 3), 10.0), torch.tensor([[1.0] * 3, [2.0] * 3]))
    keys = torch.zeros(2, 5, 1, 3)
    out = tpe.add_to_keys(keys)
    assert torch.equal(out[0], torch.ones(5, 1, 3)) and torch.equal(out[1], torch.full((5, 1, 3), 2.0))
    assert torch.equal(tpe.add_to_query(torch.zeros(5, 1, 3)), torch.full((5, 1, 3), 10.0))


def test_sine_embedding_values():
    h, w = 4, 6
    pos = sine_position_embedding((h, w), 256)
    assert pos.shape == (1, 256, h, w)
    y = np.arange(h) / (h - 1 + 1e-6) * 2 * np.pi
    x = np.arange(w) / (w - 1 + 1e-6) * 2 * np.pi
    for channel in (0, 1, 2, 7, 64, 127):
        dim = 10000 ** (2 * (channel // 2) / 128)
        fn = np.sin if channel % 2 == 0 else np.cos
        np.testing.assert_allclose(pos[0, channel, :, 0].numpy(), fn(y / dim), atol=2e-6)
        np.testing.assert_allclose(pos[0, 128 + channel, 0, :].numpy(), fn(x / dim), atol=2e-6)
    # rows embed y only, columns x only
    assert torch.equal(pos[0, :128, :, 0:1].expand(-1, -1, w), pos[0, :128])


def test_sinusoidal_temporal_pe_values_and_relative_dot_products():
    tpe = sinusoidal_temporal_pe(5, 8)
    assert tpe.memory.shape == (5, 8) and tpe.current.shape == (1, 8)
    for channel in range(8):
        frequency = 10000 ** (-(2 * (channel // 2)) / 8)
        fn = np.sin if channel % 2 == 0 else np.cos
        np.testing.assert_allclose(tpe.memory[:, channel].numpy(), fn(np.arange(5) * frequency), atol=1e-6)
        np.testing.assert_allclose(float(tpe.current[0, channel]), fn(5 * frequency), atol=1e-6)
    rows = sinusoidal_temporal_pe(9, 16).memory
    gram = rows @ rows.t()
    for offset in range(1, 4):  # the same distance gives the same dot product wherever it lies in the bank
        np.testing.assert_allclose(gram.diagonal(offset).numpy(), float(gram[0, offset]), atol=1e-5)
    assert sinusoidal_temporal_pe(3, 7).memory.shape == (3, 7)
    with pytest.raises(ValueError, match="at least one memory frame"):
        sinusoidal_temporal_pe(0, 8)
