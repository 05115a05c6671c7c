"""Object ids of a video and the network identities they map to: the one place that remaps ids.

The network sees identities 1..K; videos name their objects with any ids 1..255 (VOST uses 255 for void, which
the reference reader tracks as one more object). Following the reference reader (``docs/object-ids.md``), the
known ids start as [0] and every annotated frame appends the ids it introduces in ascending order; the id at
position j of that list is identity j. Datasets (:class:`aot_plus.data.sequence.EvalSequence`) and the per-video
predictor (:class:`aot_plus.inference.predictor.VideoPredictor`) both use this class.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

MAX_OBJECT_ID = 255


class ObjectIds:
    """The object ids known so far in a video, in identity order, starting with background 0."""

    def __init__(self) -> None:
        self.ids: list[int] = [0]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def count(self) -> int:
        """Number of objects known (background excluded)."""
        return len(self.ids) - 1

    def __contains__(self, obj_id: int) -> bool:
        return int(obj_id) in self.ids

    def identity(self, obj_id: int) -> int:
        """The identity (position in the list) of a known id."""
        return self.ids.index(int(obj_id))

    def add_ids(self, obj_ids: Iterable[int]) -> list[int]:
        """Append the ids not known yet, in ascending order; returns the ids appended."""
        new = sorted({int(i) for i in obj_ids} - set(self.ids))
        for obj_id in new:
            if not 0 < obj_id <= MAX_OBJECT_ID:
                raise ValueError(f"object ids must lie in 1..{MAX_OBJECT_ID}, got {obj_id}")
        self.ids.extend(new)
        return new

    def add(self, label: np.ndarray) -> list[int]:
        """Append the ids of the id map ``label`` not seen yet, in ascending order; returns them."""
        return self.add_ids(int(v) for v in np.unique(label) if v != 0)

    def squeeze_table(self) -> np.ndarray:
        """``[256]`` uint8 lookup table: original id -> identity (unknown ids -> 0)."""
        table = np.zeros(MAX_OBJECT_ID + 1, dtype=np.uint8)
        table[self.ids] = np.arange(len(self.ids), dtype=np.uint8)
        return table

    def restore_table(self) -> np.ndarray:
        """``[256]`` uint8 lookup table: identity -> original id (identities beyond the known list -> 0)."""
        table = np.zeros(MAX_OBJECT_ID + 1, dtype=np.uint8)
        table[:len(self.ids)] = self.ids
        return table

    def squeeze(self, label: np.ndarray) -> np.ndarray:
        """Original ids -> identities (unknown ids -> 0)."""
        return self.squeeze_table()[label]

    def restore(self, label: np.ndarray) -> np.ndarray:
        """Identities -> original ids; identities beyond the known list (unused channels) become 0."""
        return self.restore_table()[label]

    def copy(self) -> "ObjectIds":
        """An independent copy (e.g. to record the ids known after each frame)."""
        other = ObjectIds()
        other.ids = list(self.ids)
        return other
