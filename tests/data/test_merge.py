"""Dynamic merge of two clips (docs/clip-sampling.md) on hand-made labels."""
from __future__ import annotations

import numpy as np

from aot_plus.data.merge import merge_clips
from aot_plus.data.transforms import Clip


def _clip(name: str, label: np.ndarray, value: float, frames: int = 2) -> Clip:
    image = np.full(label.shape + (3,), value, np.float32)
    return Clip(name, 9, [image] * frames, [label] * frames, int(label[label != 255].max(initial=0)))


def test_merge_ids_void_and_pixels() -> None:
    first = np.zeros((30, 30), np.uint8)
    first[0:15, 0:15] = 1
    first[20:27, 0:7] = 2
    first[25:30, 20:30] = 255
    second = np.zeros((30, 30), np.uint8)
    second[10:25, 10:25] = 1
    second[0:5, 25:30] = 255
    merged = merge_clips(_clip("a", first, 10.0), _clip("b", second, 200.0), np.random.default_rng(0), 100, 10,
                         keep_void=True)
    label, image = merged.labels[0], merged.images[0]
    assert merged.obj_num == 2 and merged.name == "a" and merged.frame_num == 9
    assert label[0, 0] == 1 and label[12, 12] == 2 and label[22, 3] == 0
    assert label[27, 25] == 255 and label[2, 27] == 255 and label[29, 0] == 0
    assert image[12, 12, 0] == 200.0 and image[2, 27, 0] == 200.0 and image[0, 0, 0] == 10.0
    plain = merge_clips(_clip("a", first, 10.0), _clip("b", second, 200.0), np.random.default_rng(0), 100, 10,
                        keep_void=False)
    assert plain.labels[0][27, 25] == 0 and plain.labels[0][2, 27] == 0
    assert np.array_equal(merged.labels[1], label)


def test_merge_caps_objects_consistently() -> None:
    first = np.zeros((40, 160), np.uint8)
    second = np.zeros((40, 160), np.uint8)
    for k in range(8):
        first[0:20, 20 * k:20 * k + 20] = k + 1
        second[20:40, 20 * k:20 * k + 20] = k + 1
    merged = merge_clips(_clip("a", first, 0.0, 3), _clip("b", second, 1.0, 3), np.random.default_rng(3), 100, 10,
                         keep_void=False)
    assert merged.obj_num == 10
    assert sorted(np.unique(merged.labels[0]).tolist()) == list(range(11))
    assert all(np.array_equal(lb, merged.labels[0]) for lb in merged.labels)
