"""The VOS clip sampler's rules (docs/clip-sampling.md) on hand-made sequences."""
from __future__ import annotations

import numpy as np
import pytest

from aot_plus.data.clip_sampler import TrainSequence, pick_reference, plan_gaps, reflect_index, sample_clip
from aot_plus.data.config import ClipConfig, VOSTConfig
from aot_plus.data.errors import DatasetError
from aot_plus.data.vost import vost_train_sequences


def test_reflect_index() -> None:
    assert [reflect_index(i, 5) for i in (0, 4, 5, 7, 9, -2, 13)] == [0, 4, 3, 1, 1, 2, 3]
    assert reflect_index(7, 1) == 0


def test_pick_reference_accepts_only_valid_frames() -> None:
    labels = {}
    for i in range(10):
        label = np.zeros((20, 20), np.uint8)
        label[:15, :15] = 1
        if i % 3 == 1:
            label[:4, :15] = 255
        if i % 3 == 2:
            label[:] = 0
            label[:5, :5] = 1
        labels[f"{i}"] = label
    stems = list(labels)
    cfg = ClipConfig(seq_len=3)
    picked = {pick_reference(stems, 3, 0.2, cfg, np.random.default_rng(s), labels.__getitem__) for s in range(40)}
    assert picked <= {0, 3, 6} and len(picked) > 1
    assert {pick_reference(stems, 3, 1.0, cfg, np.random.default_rng(s), labels.__getitem__)
            for s in range(40)} <= {0, 1, 3, 4, 6}
    bad = {k: np.zeros((20, 20), np.uint8) for k in stems}
    assert pick_reference(stems, 3, 0.2, cfg, np.random.default_rng(0), bad.__getitem__) in range(7)
    assert pick_reference(stems[:4], 3, 0.2, cfg, np.random.default_rng(0), labels.__getitem__) == 0


def test_plan_gaps_valid_and_fallback() -> None:
    cfg = ClipConfig()
    frames = [f"{i:02d}" for i in range(30)]
    for seed in range(20):
        gaps = plan_gaps(0, frames, set(frames[::2]), 4, 3, cfg, np.random.default_rng(seed))
        assert len(gaps) == 4 and all(1 <= g <= 3 for g in gaps) and sum(gaps) % 2 == 0
    assert plan_gaps(8, frames[:10], set(frames[:10]), 4, 3, cfg, np.random.default_rng(0)) == [1, 1, 0, 0]


def _sequence(tmp_path, layout, labels: list[np.ndarray]) -> TrainSequence:
    """Frames whose grey level is 10 x their index, with the given labels."""
    stems = tuple(f"{i:05d}" for i in range(len(labels)))
    for i, (stem, label) in enumerate(zip(stems, labels)):
        layout.write_jpg(tmp_path / "img" / f"{stem}.jpg", np.full(label.shape + (3,), 10 * i, np.uint8))
        layout.write_png(tmp_path / "ann" / f"{stem}.png", label)
    return TrainSequence("seq", tmp_path / "img", tmp_path / "ann", stems, stems)


def _frame_indices(clip) -> list[int]:
    return [int(round(float(image.mean()) / 10)) for image in clip.images]


def test_sample_clip_consistency_order_and_determinism(tmp_path, layout) -> None:
    labels = []
    for i in range(12):
        boxes = {1: (0, 0, 20, 20)} if i < 6 else {1: (0, 0, 20, 20), 2: (20, 20, 40, 40)}
        labels.append(layout.blob_label(40, 40, boxes))
    seq = _sequence(tmp_path, layout, labels)
    for reverse in (0.0, 1.0):
        cfg = ClipConfig(seq_len=3, reverse_prob=reverse)
        for seed in range(20):
            clip = sample_clip(seq, cfg, 1, 1.0, np.random.default_rng(seed))
            ids = [set(np.unique(label).tolist()) for label in clip.labels]
            assert ids[1] | ids[2] <= ids[0]
            assert clip.obj_num == max(ids[0]) and clip.frame_num == 12
            first, *rest = _frame_indices(clip)
            step = -1 if reverse else 1
            assert rest == [first + step, first + 2 * step]
            assert (first <= 8) if not reverse else (first >= 3)
    a = sample_clip(seq, ClipConfig(seq_len=5), 3, 1.0, np.random.default_rng(7))
    b = sample_clip(seq, ClipConfig(seq_len=5), 3, 1.0, np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(a.images + a.labels, b.images + b.labels))
    gaps = np.diff(_frame_indices(a))
    assert len(gaps) == 4 and all(1 <= abs(g) <= 3 for g in gaps[:-1])


def test_unlabelled_frames_become_void(tmp_path, layout) -> None:
    labels = [layout.blob_label(30, 30, {1: (0, 0, 20, 20)}) for _ in range(6)]
    seq = _sequence(tmp_path, layout, labels)
    sparse = TrainSequence("seq", seq.image_dir, seq.label_dir, seq.frames, seq.frames[::2])
    clip = sample_clip(sparse, ClipConfig(seq_len=6, reverse_prob=0.0), 1, 1.0, np.random.default_rng(0))
    assert [bool((lb == 255).all()) for lb in clip.labels] == [False, True, False, True, False, True]


def test_size_mismatch_names_the_files(tmp_path, layout) -> None:
    labels = [layout.blob_label(30, 30, {1: (0, 0, 20, 20)}) for _ in range(3)]
    seq = _sequence(tmp_path, layout, labels)
    layout.write_png(seq.label_path("00001"), np.zeros((10, 10), np.uint8))
    layout.write_png(seq.label_path("00000"), np.zeros((10, 10), np.uint8))
    layout.write_png(seq.label_path("00002"), np.zeros((10, 10), np.uint8))
    with pytest.raises(DatasetError, match=r"annotation .*0000\d.png is 10x10 but image .*0000\d.jpg is 30x30"):
        sample_clip(seq, ClipConfig(seq_len=3), 1, 1.0, np.random.default_rng(0))


def _vost_with_unannotated_frames(root, layout, annotated: int) -> TrainSequence:
    """A VOST-layout sequence read from ``JPEGImages_10fps``: ``2 * annotated`` frames (grey level 10 x index),
    annotations on every second frame only."""
    for i in range(2 * annotated):
        stem = f"{3 * i:05d}"
        layout.write_jpg(root / "JPEGImages_10fps" / "seq" / f"{stem}.jpg", np.full((30, 30, 3), 10 * i, np.uint8))
        if i % 2 == 0:
            label = layout.blob_label(30, 30, {1: (0, 0, 20, 20)})
            layout.write_png(root / "Annotations" / "seq" / f"{stem}.png", label)
    (root / "ImageSets").mkdir(parents=True)
    (root / "ImageSets" / "train.txt").write_text("seq\n")
    (seq,) = vost_train_sequences(VOSTConfig(root=str(root), train_frames_dir="JPEGImages_10fps"))
    return seq


@pytest.mark.parametrize("reverse", [0.0, 1.0])
def test_start_of_later_frames_with_unannotated_frames(tmp_path, layout, reverse: float) -> None:
    seq = _vost_with_unannotated_frames(tmp_path / "VOST", layout, annotated=10)
    assert len(seq.frames) == 20 and len(seq.labelled) == 10
    starts_at_or_before_reference = 0
    for start in ("annotated_index", "reference_frame"):
        cfg = ClipConfig(seq_len=4, reverse_prob=reverse, start=start)
        for seed in range(30):
            ref, *later = _frame_indices(sample_clip(seq, cfg, 1, 1.0, np.random.default_rng(seed)))
            # positions in the order the clip was drawn in (all frames, annotated ones at every second position)
            order = list(range(20))[::-1] if reverse else list(range(20))
            annotated = [i for i in order if i % 2 == 0]
            first = annotated.index(ref) if start == "annotated_index" else order.index(ref)
            assert later == order[first + 1:first + 4]
            if start == "annotated_index":
                starts_at_or_before_reference += order.index(later[0]) <= order.index(ref)
            else:
                assert order.index(later[0]) == order.index(ref) + 1
    assert starts_at_or_before_reference > 10


def test_start_rules_agree_when_every_frame_is_annotated(tmp_path, layout) -> None:
    labels = [layout.blob_label(30, 30, {1: (0, 0, 20, 20)}) for _ in range(10)]
    seq = _sequence(tmp_path, layout, labels)
    for seed in range(10):
        a, b = (sample_clip(seq, ClipConfig(seq_len=4, start=start), 3, 1.0, np.random.default_rng(seed))
                for start in ("annotated_index", "reference_frame"))
        assert _frame_indices(a) == _frame_indices(b)
