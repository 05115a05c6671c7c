"""Warn when a video's prediction loses an object: no pixel of it for N consecutive frames.

A model that does not suit the footage (for example the synthetic demo model on a real video) often predicts
background everywhere after the first frame; without a word, a user only finds empty masks at the end. The watch
is fed every predicted id mask and logs one warning per object, the first time its run of empty frames reaches
``patience`` (``eval.empty_mask_warn_frames``).
"""
from __future__ import annotations

import logging
from typing import Iterable, Optional

import numpy as np

log = logging.getLogger(__name__)


class EmptyMaskWatch:
    """Counts, per object, the consecutive frames without a predicted pixel and warns once per object.

    Args:
        object_ids: ids of the objects to watch (those of the first-frame mask; 0 and 255 are ignored).
        patience: consecutive empty frames that trigger the warning; 0 turns the watch off.
        source: name of the video, for the message.
    """

    def __init__(self, object_ids: Iterable[int], patience: int, source: str = "the video") -> None:
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.patience = patience
        self.source = source
        self._empty = {int(i): 0 for i in object_ids if int(i) not in (0, 255)}
        self._first_empty: dict[int, int] = {}
        self.warned: set[int] = set()

    def update(self, index: int, mask: np.ndarray) -> list[int]:
        """Record the predicted id mask of frame ``index``; returns the objects warned about at this frame."""
        if not self.patience or not self._empty:
            return []
        counts = np.bincount(np.asarray(mask, dtype=np.int64).ravel(), minlength=max(self._empty) + 1)
        warned = []
        for obj in self._empty:
            if counts[obj]:
                self._empty[obj] = 0
                continue
            if self._empty[obj] == 0:
                self._first_empty[obj] = index
            self._empty[obj] += 1
            if self._empty[obj] >= self.patience and obj not in self.warned:
                self.warned.add(obj)
                warned.append(obj)
                log.warning("object %d: no foreground predicted for %d consecutive frames (frames %d-%d of %s); "
                            "the model may have lost it. Models trained only on synthetic videos (the demo model) "
                            "give empty masks on real footage: the README lists the released checkpoints that "
                            "give real results (eval.empty_mask_warn_frames sets N, 0 turns this off)",
                            obj, self._empty[obj], self._first_empty[obj], index, self.source)
        return warned

    def empty_run(self, obj: int) -> Optional[int]:
        """Current number of consecutive empty frames of ``obj`` (None: not watched)."""
        return self._empty.get(obj)
