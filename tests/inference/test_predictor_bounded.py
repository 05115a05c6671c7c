"""2,000 frames from an iterator of unknown length: the predictor's bank, frames and tensors stay bounded."""
from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
import torch

from aot_plus.config import load_config
from aot_plus.inference.predictor import VideoPredictor
from aot_plus.models import build_model

from .conftest import BASE_OVERRIDES, CONFIG

FRAMES, SIZE, RECENT, READ_AHEAD = 2000, 17, 2, 2


SAMPLES = (100, 700, 1300, 1900)


def _live_tensors() -> int:
    gc.collect()
    with warnings.catch_warnings():  # isinstance() on deprecated torch objects warns
        warnings.simplefilter("ignore")
        return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))


@pytest.mark.slow
def test_2000_frames_from_an_iterator_stay_bounded():
    cfg = load_config(CONFIG, (*BASE_OVERRIDES, "memory.long_term_gap=1", f"memory.max_recent_frames={RECENT}",
                               f"eval.read_ahead_frames={READ_AHEAD}"))
    torch.manual_seed(0)
    predictor = VideoPredictor(build_model(cfg.model), cfg, torch.device("cpu"))
    alive: list[weakref.ref] = []

    def camera():  # a stream: a fresh array per frame, no length
        rng = np.random.default_rng(0)
        for _ in range(FRAMES):
            frame = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
            alive.append(weakref.ref(frame))
            yield frame

    predictor.init_state(camera())
    mask = np.zeros((SIZE, SIZE), bool)
    mask[3:12, 3:12] = True
    predictor.add_new_mask(0, 1, mask)
    bank_frames, held, frames_alive, tensors, bank_bytes = [], [], [], {}, {}
    for frame_idx, obj_ids, masks, scores in predictor.propagate_in_video():
        assert obj_ids == (1,) and masks.shape == (1, SIZE, SIZE) and scores.shape == (1,)
        bank_frames.append(len(predictor.kept_frames))
        held.append(predictor.frames_held)
        frames_alive.append(sum(ref() is not None for ref in alive))
        if frame_idx in SAMPLES:
            del masks
            tensors[frame_idx] = _live_tensors()
            bank_bytes[frame_idx] = predictor.sessions[0].memory_bytes()
    assert len(bank_frames) == FRAMES
    assert max(bank_frames) == bank_frames[-1] == 1 + RECENT
    assert predictor.kept_frames == (0, FRAMES - 2, FRAMES - 1)
    # Frames the predictor holds: the queue, one being prepared or put, one peeked, and the last one yielded.
    assert max(held) <= READ_AHEAD + 3 and max(frames_alive) <= READ_AHEAD + 4
    # Live tensors may differ between samples only by the prepared frames in the read-ahead (two tensor objects
    # each: the normalised image and its batched view); a leak of one tensor per frame would add hundreds.
    assert max(tensors.values()) - min(tensors.values()) <= 2 * (READ_AHEAD + 2), tensors
    assert len(set(bank_bytes.values())) == 1, bank_bytes
