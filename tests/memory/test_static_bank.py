"""StaticMemoryBank: same contents and order as MemoryBank, fixed shapes, validity mask, in-place writes, errors."""
from __future__ import annotations

import pytest
import torch

from aot_plus.memory import FifoConfig, MemoryBank, MemoryConfig, StaticMemoryBank, UnboundedConfig, build_bank


def entry(frame: float, shape=(4, 1, 3)) -> list[tuple]:
    """Two layers: AOT-like (K, V) and DeAOT-like (K, V, None, IDV)."""
    base = torch.full(shape, float(frame))
    return [(base, base + 0.5), (base * 2, base * 3, None, base * 4)]


def _replay(bank, operations):
    for op, value in operations:
        if op == "append":
            bank.append(value, entry(value))
        else:
            bank.remove(value)


OPERATIONS = [("append", 0), ("append", 3), ("append", 6), ("append", 9), ("remove", 1), ("append", 12),
              ("remove", 3), ("append", 15), ("remove", 1), ("append", 18), ("remove", 3)]


def test_same_frames_and_contents_as_the_growing_bank_after_every_operation():
    growing, static = MemoryBank(), StaticMemoryBank(capacity=3)
    for step in range(len(OPERATIONS)):
        _replay(growing, OPERATIONS[step:step + 1])
        _replay(static, OPERATIONS[step:step + 1])
        assert static.frame_ids == growing.frame_ids and len(static) == len(growing)
        if len(static) > static.capacity:
            with pytest.raises(ValueError, match="more than its capacity"):
                static.layer(0)
            continue
        count = len(growing)
        assert static.valid.tolist() == [True] * count + [False] * (3 - count)
        for layer in range(2):
            for want, got in zip(growing.layer(layer), static.layer(layer)):
                assert (want is None) == (got is None)
                if want is not None:
                    assert got.shape[0] == 3
                    torch.testing.assert_close(got[:count], want, rtol=0, atol=0)


def test_shapes_and_tensor_objects_never_change():
    bank = StaticMemoryBank(capacity=2)
    bank.append(0, entry(0))
    first = bank.layer(0)[0]
    pointer = first.data_ptr()
    for frame in range(1, 6):
        bank.append(frame, entry(frame))
        if len(bank) > 2:
            bank.remove(1)
        keys = bank.layer(0)[0]
        assert keys.shape == (2, 4, 1, 3) and keys.data_ptr() == pointer
    assert bank.frame_ids == (0, 5) and bank.layer(0)[0][:, 0, 0, 0].tolist() == [0, 5]
    assert bank.nbytes() == 3 * 4 * 3 * 4 * 5  # 3 rows x 12 floats x 4 bytes x 5 stored slots


def test_full_bank_and_bad_entries_are_refused():
    bank = StaticMemoryBank(capacity=1, on_change=None)
    bank.append(0, entry(0))
    bank.append(1, entry(1))
    with pytest.raises(ValueError, match="at most 1 frames"):
        bank.append(2, entry(2))
    bank.remove(1)
    with pytest.raises(ValueError, match="slot 1"):
        bank.append(3, [(torch.zeros(4, 1, 3), torch.zeros(4, 1, 2)), entry(3)[1]])
    with pytest.raises(IndexError):
        bank.remove(4)
    grad = torch.zeros(4, 1, 3, requires_grad=True)
    with pytest.raises(ValueError, match="gradients"):
        StaticMemoryBank(capacity=2).append(0, [(grad, grad)])


def test_clear_keeps_slots_and_records_changes():
    changes = []
    bank = StaticMemoryBank(capacity=2, on_change=changes.append)
    bank.append(0, entry(0))
    bank.append(4, entry(4))
    bank.set_short_term(entry(4))
    bank.clear()
    assert len(bank) == 0 and not bool(bank.valid.any()) and changes == [(0,), (0, 4), ()]
    with pytest.raises(ValueError, match="no short-term"):
        bank.short_term(0)
    bank.append(8, entry(8))
    assert bank.layer(1)[3][0, 0, 0, 0].item() == 32.0


def test_build_bank_follows_memory_storage():
    assert type(build_bank(MemoryConfig())) is MemoryBank and MemoryBank().valid is None
    static = build_bank(MemoryConfig(reference_frames=1, max_recent_frames=4, storage="static"))
    assert isinstance(static, StaticMemoryBank) and static.capacity == 5
    with pytest.raises(ValueError, match="memory.storage 'static' needs a bounded memory"):
        MemoryConfig(policy=UnboundedConfig(), storage="static")
    with pytest.raises(ValueError, match="memory.storage 'static'"):
        MemoryConfig(max_recent_frames=None, policy=FifoConfig(), storage="static")
