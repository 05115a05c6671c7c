"""EmptyMaskWatch: one warning per object after N consecutive frames without a predicted pixel of it."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from aot_plus.inference.config import EvalConfig
from aot_plus.inference.empty_watch import EmptyMaskWatch


def _mask(*ids: int) -> np.ndarray:
    mask = np.zeros((4, 6), dtype=np.uint8)
    for k, obj in enumerate(ids):
        mask[k, :2] = obj
    return mask


def test_warns_once_per_object_after_n_empty_frames(caplog):
    watch = EmptyMaskWatch([0, 1, 2, 255], patience=3, source="clip.mp4")
    caplog.set_level(logging.WARNING, logger="aot_plus.inference.empty_watch")
    frames = [_mask(1, 2), _mask(1), _mask(1), _mask(1, 2), _mask(1), _mask(1), _mask(1), _mask(), _mask()]
    warned = [watch.update(t, m) for t, m in enumerate(frames, start=1)]
    assert warned == [[], [], [], [], [], [], [2], [], []]  # 2 is empty on frames 5, 6, 7 (the run of 2-3 reset)
    assert watch.empty_run(1) == 2 and watch.empty_run(2) == 5 and watch.empty_run(255) is None
    records = [r.getMessage() for r in caplog.records]
    assert len(records) == 1 and "object 2" in records[0] and "frames 5-7 of clip.mp4" in records[0]
    watch.update(10, _mask())
    assert watch.warned == {1, 2} and len(caplog.records) == 2


def test_zero_turns_it_off_and_bad_values_are_refused():
    watch = EmptyMaskWatch([1], patience=0)
    assert all(watch.update(t, _mask()) == [] for t in range(1, 50))
    with pytest.raises(ValueError, match="patience"):
        EmptyMaskWatch([1], patience=-1)
    with pytest.raises(ValueError, match="eval.empty_mask_warn_frames"):
        EvalConfig(empty_mask_warn_frames=-2)
    assert EvalConfig().empty_mask_warn_frames == 10
