"""Storage of one video's memories: it stores, it never decides what to keep (that is the policy's job).

Layout (private; read it only through :meth:`MemoryBank.layer` and :meth:`MemoryBank.short_term`):

* The long-term memory holds ``T`` frames in *bank order*: the reference frame(s) first, then the inserted frames
  in insertion order (new frames go to the end; the temporal positional embedding and eviction positions index
  this order). ``frame_ids[i]`` is the video frame index of position ``i``.
* Per transformer layer the model defines a fixed tuple of *slots* (AOT: ``(K, V)``; DeAOT: ``(K, V, IDV)``); a
  slot may be None for every frame. One frame's entry of a slot is a tensor of any fixed shape, typically
  ``[L, B, C]``; :meth:`MemoryBank.layer` returns each slot stacked over frames, ``[T, L, B, C]``.
* The stacked tensors are built lazily and cached until the next :meth:`append`, :meth:`remove` or :meth:`clear`,
  so frames propagated between two insertions reuse one tensor and an insertion followed by an eviction costs one
  copy. After stacking, the per-frame entries are views into the stacked tensor, so memory is not duplicated. All
  updates are out of place, so tensors that carry gradients (sequence training) are safe.
* The short-term memory (the previous frame's per-layer tuples) is kept as given and replaced wholesale.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

#: One frame's memory entries of one layer, as a model's ``memorize`` returns them (a tuple of slots).
LayerEntries = Sequence[Optional[Tensor]]
#: One layer's memory as the transformer layers read it: per slot the tensor (long-term: stacked over frames) or
#: None. The models import this type; it is the one name for it.
LayerMemory = tuple[Optional[Tensor], ...]


class MemoryBank:
    """Per-layer long-term memory of the kept frames with their frame indices, plus the short-term memory.

    Args:
        on_change: optional callback called with the new ``frame_ids`` after every change of the long-term memory
            (e.g. to record a memory timeline).
    """

    def __init__(self, on_change: Optional[Callable[[tuple[int, ...]], None]] = None) -> None:
        self._on_change = on_change
        self._frame_ids: list[int] = []
        self._entries: list[list[list[Optional[Tensor]]]] = []  # [layer][slot][frame]
        self._stacked: list[Optional[LayerMemory]] = []  # [layer], None = stale
        self._short_term: Optional[tuple[LayerMemory, ...]] = None

    def __len__(self) -> int:
        return len(self._frame_ids)

    @property
    def frame_ids(self) -> tuple[int, ...]:
        """Video frame index of every long-term position, in bank order."""
        return tuple(self._frame_ids)

    @property
    def valid(self) -> Optional[Tensor]:
        """Which rows of :meth:`layer` hold a frame: None, every row does (the static-capacity bank returns a mask)."""
        return None

    @property
    def num_layers(self) -> int:
        """Number of transformer layers stored (0 before the first append)."""
        return len(self._entries)

    def append(self, frame_id: int, layers: Sequence[LayerEntries]) -> None:
        """Append one frame at the end of the long-term memory.

        Args:
            frame_id: the frame's index in the video.
            layers: per layer, the frame's entry of each slot (same slot count, None pattern and entry shapes as
                the frames already stored).
        """
        if not self._entries:
            self._entries = [[[] for _ in entries] for entries in layers]
            self._stacked = [None] * len(layers)
        self._check_entries(frame_id, layers)
        for layer, entries in enumerate(layers):
            for slot, entry in enumerate(entries):
                self._entries[layer][slot].append(entry)
            self._stacked[layer] = None
        self._frame_ids.append(int(frame_id))
        self._changed()

    def remove(self, position: int) -> int:
        """Remove the frame at bank ``position`` from every layer; returns its frame index."""
        if not 0 <= position < len(self._frame_ids):
            raise IndexError(f"memory bank position {position} out of range for {len(self._frame_ids)} frames")
        for layer, slots in enumerate(self._entries):
            for entries in slots:
                del entries[position]
            self._stacked[layer] = None
        frame_id = self._frame_ids.pop(position)
        self._changed()
        return frame_id

    def layer(self, index: int) -> LayerMemory:
        """Long-term memory of layer ``index``: each slot stacked over the frames, ``[T, ...]`` (None stays None)."""
        if not self._frame_ids:
            raise ValueError("the memory bank is empty; add a reference frame first")
        if not 0 <= index < len(self._entries):
            raise IndexError(f"layer {index} out of range for a bank of {len(self._entries)} layers")
        stacked = self._stacked[index]
        if stacked is None:
            stacked = tuple(self._stack(entries) for entries in self._entries[index])
            self._entries[index] = [[None] * len(self._frame_ids) if s is None else list(s.unbind(0))
                                    for s in stacked]
            self._stacked[index] = stacked
        return stacked

    def set_short_term(self, layers: Sequence[LayerEntries]) -> None:
        """Replace the short-term memory with ``layers`` (per layer, a tuple of tensors or None)."""
        self._short_term = tuple(tuple(entries) for entries in layers)

    def short_term(self, index: int) -> LayerMemory:
        """Short-term memory of layer ``index`` as last given to :meth:`set_short_term`."""
        if self._short_term is None:
            raise ValueError("the memory bank holds no short-term memory yet")
        return self._short_term[index]

    def clear(self) -> None:
        """Forget every frame and the short-term memory."""
        self._frame_ids = []
        self._entries = []
        self._stacked = []
        self._short_term = None
        self._changed()

    def nbytes(self) -> int:
        """Bytes held by the long-term memory (each stored frame entry counted once)."""
        return sum(entry.numel() * entry.element_size()
                   for slots in self._entries for entries in slots for entry in entries if entry is not None)

    @staticmethod
    def _stack(entries: list[Optional[Tensor]]) -> Optional[Tensor]:
        if entries[0] is None:
            return None
        return torch.stack(entries, dim=0)

    def _slot_shapes(self) -> list[list[object]]:
        """Per layer and slot, the shape of a stored entry (None for a None slot), or False while nothing is stored."""
        return [[(None if frames[0] is None else tuple(frames[0].shape)) if frames else False for frames in slots]
                for slots in self._entries]

    def _check_entries(self, frame_id: int, layers: Sequence[LayerEntries]) -> None:
        shapes = self._slot_shapes()
        if len(layers) != len(shapes):
            raise ValueError(f"frame {frame_id}: got memories for {len(layers)} layers, the bank stores "
                             f"{len(shapes)}")
        for layer, (entries, stored) in enumerate(zip(layers, shapes)):
            if len(entries) != len(stored):
                raise ValueError(f"frame {frame_id}, layer {layer}: got {len(entries)} memory slots, the bank "
                                 f"stores {len(stored)}")
            for slot, (entry, want) in enumerate(zip(entries, stored)):
                got = None if entry is None else tuple(entry.shape)
                if want is not False and got != want:
                    raise ValueError(f"frame {frame_id}, layer {layer}, slot {slot}: memory entry of shape {got} "
                                     f"does not match the stored entries of shape {want}")

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.frame_ids)
