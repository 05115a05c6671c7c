"""Static-capacity storage of one video's memories: preallocated slots, in-place writes, a validity mask.

Same interface as :class:`~aot_plus.memory.bank.MemoryBank` (``append``, ``remove``, ``layer``, ``frame_ids``,
short-term memory, ``clear``, ``nbytes``) so the wiring does not change; see ``docs/static-memory.md``.

Layout (private):

* Per layer and slot one buffer ``[capacity + 1, ...]`` allocated at the first :meth:`StaticMemoryBank.append`
  (zeros, the first entry's dtype and device). Position ``i`` of the bank order lives in row ``i``: frames are
  written in place at row ``len(bank)``, and :meth:`StaticMemoryBank.remove` shifts the later rows up by one, so
  the bank order (which drives the temporal positional embedding and the eviction positions) is the row order.
* The extra row holds the frame inserted before the policy evicts one; :meth:`StaticMemoryBank.layer` returns the
  first ``capacity`` rows, which are what attention reads, with :attr:`StaticMemoryBank.valid` (``[capacity]``
  bool, True for the filled rows). Rows past ``len(bank)`` keep stale or zero values; attention ignores them.
* Shapes never change and the tensors :meth:`StaticMemoryBank.layer` returns are the same objects every frame, so
  a frame step over them can be compiled once (or captured as a CUDA graph) without recompiling as the bank fills.
* Writes are in place, so entries that carry gradients are refused (sequence training uses the growing bank).
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

from aot_plus.memory.bank import LayerEntries, LayerMemory, MemoryBank


class StaticMemoryBank(MemoryBank):
    """A :class:`MemoryBank` with a fixed number of preallocated slots per layer.

    Args:
        capacity: most frames attention reads (reference + recent frames); one more may be held between an
            insertion and the policy's eviction.
        on_change: optional callback called with the new ``frame_ids`` after every change of the long-term memory.
    """

    def __init__(self, capacity: int, on_change: Optional[Callable[[tuple[int, ...]], None]] = None) -> None:
        if capacity < 1:
            raise ValueError(f"a static memory bank needs a capacity >= 1, got {capacity}")
        super().__init__(on_change)
        self.capacity = capacity
        self._buffers: list[tuple[Optional[Tensor], ...]] = []  # [layer][slot]: [capacity + 1, ...] or None
        self._valid: Optional[Tensor] = None  # [capacity + 1] bool

    @property
    def num_layers(self) -> int:
        """Number of transformer layers stored (0 before the first append)."""
        return len(self._buffers)

    @property
    def valid(self) -> Optional[Tensor]:
        """``[capacity]`` bool on the entries' device: True for the rows of :meth:`layer` that hold a frame."""
        return None if self._valid is None else self._valid[:self.capacity]

    def append(self, frame_id: int, layers: Sequence[LayerEntries]) -> None:
        """Write one frame at the end of the bank order (in place).

        Args:
            frame_id: the frame's index in the video.
            layers: per layer, the frame's entry of each slot (same slot count, None pattern and entry shapes as
                the first frame stored).

        Raises:
            ValueError: the bank already holds ``capacity + 1`` frames, or the entries do not match the slots.
        """
        count = len(self._frame_ids)
        if count > self.capacity:
            raise ValueError(f"frame {frame_id}: the static memory bank holds at most {self.capacity} frames plus "
                             "one awaiting eviction (memory.storage=static needs a policy that evicts after every "
                             "insertion; later references in 'append' mode exceed it: use memory.storage=growing)")
        if not self._buffers:
            self._allocate(layers)
        self._check_entries(frame_id, layers)
        for buffers, entries in zip(self._buffers, layers):
            for buffer, entry in zip(buffers, entries):
                if buffer is not None:
                    buffer[count].copy_(entry)
        self._valid[count] = True
        self._frame_ids.append(int(frame_id))
        self._changed()

    def remove(self, position: int) -> int:
        """Remove the frame at bank ``position``: the later rows move up one (in place); returns its frame index."""
        count = len(self._frame_ids)
        if not 0 <= position < count:
            raise IndexError(f"memory bank position {position} out of range for {count} frames")
        if position < count - 1:
            for buffers in self._buffers:
                for buffer in buffers:
                    if buffer is not None:
                        buffer[position:count - 1] = buffer[position + 1:count].clone()
        self._valid[count - 1] = False
        frame_id = self._frame_ids.pop(position)
        self._changed()
        return frame_id

    def layer(self, index: int) -> LayerMemory:
        """Long-term memory of layer ``index``: each slot's first ``capacity`` rows ``[capacity, ...]`` (None stays
        None); read it together with :attr:`valid`."""
        count = len(self._frame_ids)
        if not count:
            raise ValueError("the memory bank is empty; add a reference frame first")
        if count > self.capacity:
            raise ValueError(f"the static memory bank holds {count} frames, more than its capacity "
                             f"{self.capacity}; the policy must evict before the next propagation")
        if not 0 <= index < len(self._buffers):
            raise IndexError(f"layer {index} out of range for a bank of {len(self._buffers)} layers")
        return tuple(None if buffer is None else buffer[:self.capacity] for buffer in self._buffers[index])

    def clear(self) -> None:
        """Forget every frame and the short-term memory; the slots stay allocated."""
        self._frame_ids = []
        self._short_term = None
        if self._valid is not None:
            self._valid.fill_(False)
        self._changed()

    def nbytes(self) -> int:
        """Bytes allocated for the long-term slots (all ``capacity + 1`` rows, filled or not)."""
        return sum(buffer.numel() * buffer.element_size()
                   for buffers in self._buffers for buffer in buffers if buffer is not None)

    def _allocate(self, layers: Sequence[LayerEntries]) -> None:
        rows = self.capacity + 1
        device = None
        for entries in layers:
            for entry in entries:
                if entry is not None and entry.requires_grad:
                    raise ValueError("the static memory bank writes in place and cannot hold entries that carry "
                                     "gradients; use memory.storage=growing for training")
                if entry is not None:
                    device = entry.device
        self._buffers = [tuple(None if entry is None else entry.new_zeros((rows, *entry.shape)) for entry in entries)
                         for entries in layers]
        self._valid = torch.zeros(rows, dtype=torch.bool, device=device)

    def _slot_shapes(self) -> list[list[object]]:
        return [[None if buffer is None else tuple(buffer.shape[1:]) for buffer in buffers]
                for buffers in self._buffers]
