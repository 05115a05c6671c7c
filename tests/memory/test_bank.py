"""MemoryBank storage: bank order, removal, lazy stacking, None slots, validation, gradients."""
from __future__ import annotations

import pytest
import torch

from aot_plus.memory import MemoryBank


def entry(frame: float, shape=(4, 1, 3)) -> list[tuple]:
    """Two layers: AOT-like (K, V) and DeAOT-like (K, V, None, IDV)."""
    base = torch.full(shape, float(frame))
    return [(base, base + 0.5), (base * 2, base * 3, None, base * 4)]


def test_append_remove_layer_order():
    changes = []
    bank = MemoryBank(on_change=changes.append)
    for frame in (0, 3, 6, 9):
        bank.append(frame, entry(frame))
    assert len(bank) == 4 and bank.frame_ids == (0, 3, 6, 9) and bank.num_layers == 2
    keys, values = bank.layer(0)
    assert keys.shape == (4, 4, 1, 3) and keys[:, 0, 0, 0].tolist() == [0, 3, 6, 9]
    assert values[:, 0, 0, 0].tolist() == [0.5, 3.5, 6.5, 9.5]
    assert bank.remove(2) == 6
    k, v, empty, idv = bank.layer(1)
    assert empty is None and k[:, 0, 0, 0].tolist() == [0, 6, 18] and idv[:, 0, 0, 0].tolist() == [0, 12, 36]
    assert bank.layer(0)[0][:, 0, 0, 0].tolist() == [0, 3, 9]
    assert changes[-1] == (0, 3, 9) and len(changes) == 5


def test_stacked_tensors_cached_until_change():
    bank = MemoryBank()
    bank.append(0, entry(0))
    bank.append(1, entry(1))
    first = bank.layer(0)
    assert bank.layer(0)[0] is first[0]
    bank.append(2, entry(2))
    bank.remove(1)
    second = bank.layer(0)
    assert second[0] is not first[0] and second[0][:, 0, 0, 0].tolist() == [0, 2]
    assert first[0][:, 0, 0, 0].tolist() == [0, 1]  # earlier results are never modified in place


def test_nbytes_and_clear():
    bank = MemoryBank()
    for frame in range(3):
        bank.append(frame, entry(frame))
    per_frame = 5 * 4 * 1 * 3 * 4  # five tensors of 12 float32 values
    assert bank.nbytes() == 3 * per_frame
    bank.layer(0)
    bank.layer(1)
    assert bank.nbytes() == 3 * per_frame  # stacking does not duplicate storage
    bank.clear()
    assert len(bank) == 0 and bank.nbytes() == 0 and bank.num_layers == 0
    bank.append(7, entry(7, shape=(2, 1, 5)))  # a new video may have another size
    assert bank.layer(1)[3].shape == (1, 2, 1, 5)


def test_short_term_memory():
    bank = MemoryBank()
    with pytest.raises(ValueError, match="short-term"):
        bank.short_term(0)
    bank.set_short_term(entry(4))
    assert bank.short_term(1)[2] is None and bank.short_term(0)[0][0, 0, 0] == 4


def test_validation_errors():
    bank = MemoryBank()
    with pytest.raises(ValueError, match="empty"):
        bank.layer(0)
    bank.append(0, entry(0))
    with pytest.raises(ValueError, match="1 layers"):
        bank.append(1, entry(1)[:1])
    with pytest.raises(ValueError, match="slot 1"):
        bank.append(1, [(torch.zeros(4, 1, 3), torch.zeros(4, 1, 2)), entry(1)[1]])
    with pytest.raises(ValueError, match="slot 2"):
        bank.append(1, [entry(1)[0], (torch.zeros(4, 1, 3),) * 4])
    with pytest.raises(ValueError, match="3 memory slots"):
        bank.append(1, [entry(1)[0], entry(1)[1][:3]])
    with pytest.raises(IndexError):
        bank.remove(1)
    with pytest.raises(IndexError):
        bank.layer(2)
    assert bank.frame_ids == (0,)


def test_gradients_flow_through_appends_and_removals():
    weights = torch.ones(4, 1, 3, requires_grad=True)
    bank = MemoryBank()
    for frame in range(5):
        key = weights * (frame + 1)
        bank.append(frame, [(key, key)])
        bank.layer(0)
        if len(bank) > 3:
            bank.remove(1)
    assert bank.frame_ids == (0, 3, 4)
    bank.layer(0)[0].sum().backward()
    assert torch.allclose(weights.grad, torch.full((4, 1, 3), 1.0 + 4.0 + 5.0))
