"""Unit tests of the per-frame scores and the per-object statistics on hand-computed values."""
from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation import metrics
from evaluation.metrics import (
    boundary_f,
    boundary_map,
    boundary_radius,
    confusion_counts,
    decay_slices,
    disk,
    jaccard,
    jaccard_from_confusion,
    statistics,
    tail_start,
)


def square(shape: tuple[int, int], rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """Binary mask with ones on the inclusive row/col ranges."""
    mask = np.zeros(shape, dtype=bool)
    mask[rows[0] : rows[1] + 1, cols[0] : cols[1] + 1] = True
    return mask


class TestJaccard:
    def test_overlap(self):
        gt = square((6, 6), (1, 2), (1, 2))  # 4 pixels
        pred = square((6, 6), (1, 2), (2, 3))  # 4 pixels, 2 shared
        assert jaccard(gt, pred) == pytest.approx(2 / 6)

    def test_empty_union_scores_one(self):
        empty = np.zeros((4, 4), dtype=bool)
        assert jaccard(empty, empty) == 1.0
        assert jaccard(empty, square((4, 4), (0, 0), (0, 0))) == 0.0

    def test_confusion_void_is_background_and_extra_ids_ignored(self):
        gt = np.array([[1, 1, 255, 0], [2, 2, 0, 0]], dtype=np.uint8)
        pred = np.array([[1, 1, 1, 7], [2, 0, 0, 2]], dtype=np.uint8)
        counts = confusion_counts(gt, pred)
        assert counts.sum() == gt.size and counts[255, 1] == 1 and counts[0, 7] == 1
        scores = jaccard_from_confusion(counts, num_objects=3)
        # object 1: inter 2, union 3 (the void pixel predicted as 1 is a false positive)
        # object 2: inter 1, union 3; object 3: absent from both -> 1; id 7 ignored.
        np.testing.assert_array_equal(scores, [2 / 3, 1 / 3, 1.0])

    @pytest.mark.parametrize("exact_limit", [2**24, 0])  # OpenCV histogram, then the np.bincount path
    def test_confusion_matches_binary_jaccard(self, monkeypatch, exact_limit):
        monkeypatch.setattr(metrics, "_EXACT_FLOAT32_COUNT", exact_limit)
        rng = np.random.default_rng(0)
        gt = rng.integers(0, 4, size=(17, 23), dtype=np.uint8)
        gt[rng.random(gt.shape) < 0.1] = 255
        pred = rng.integers(0, 5, size=(17, 23), dtype=np.uint8)
        scores = jaccard_from_confusion(confusion_counts(gt, pred), 3)
        clean = np.where(gt == 255, 0, gt)
        expected = [jaccard(clean == k, pred == k) for k in (1, 2, 3)]
        np.testing.assert_array_equal(scores, expected)


class TestStatistics:
    def test_recall_is_strictly_above_half(self):
        stats = statistics(np.array([0.5, 0.51, 1.0, 0.0]))
        assert stats.recall == 0.5
        assert stats.mean == pytest.approx(2.01 / 4)

    @pytest.mark.parametrize(
        ("length", "edges"),
        [
            (16, [(0, 5), (4, 9), (8, 12), (11, 16)]),
            (3, [(0, 2), (1, 2), (1, 3), (2, 3)]),
            (1, [(0, 1)] * 4),
            (257, [(0, 65), (64, 129), (128, 193), (192, 1)]),  # last edge 256 wraps to 0
            (256, [(0, 65), (64, 129), (128, 192), (191, 0)]),  # edge 255: its end 255 + 1 wraps to 0
            (400, [(0, 101), (100, 201), (200, 44), (43, 144)]),  # 299 -> 43, 399 -> 143
        ],
    )
    def test_decay_bins_wrap_like_uint8(self, length, edges):
        assert [(s.start, s.stop) for s in decay_slices(length)] == edges

    def test_decay_of_sixteen_frames(self):
        x = np.arange(16, dtype=np.float64) / 16
        stats = statistics(x)
        assert stats.decay == pytest.approx(np.mean(x[0:5]) - np.mean(x[11:16]))

    def test_decay_single_frame_is_zero(self):
        assert statistics(np.array([0.3])).decay == 0.0

    @pytest.mark.parametrize("length", [256, 257, 300, 1021])
    def test_decay_nan_when_a_wrapped_bin_is_empty(self, length):
        stats = statistics(np.linspace(1, 0, length))
        assert math.isnan(stats.decay)
        assert not math.isnan(stats.mean) and not math.isnan(stats.recall)

    def test_decay_wrapped_but_finite(self):
        x = np.random.default_rng(1).random(400)
        assert statistics(x).decay == pytest.approx(np.mean(x[0:101]) - np.mean(x[43:144]))

    @pytest.mark.parametrize(("n", "start", "window"), [(1, 0, 1), (2, 1, 1), (4, 3, 1), (5, 3, 2), (257, 192, 65)])
    def test_j_tr_window_index_rule(self, n, start, window):
        assert tail_start(n) == start
        assert n - tail_start(n) == window


class TestBoundary:
    def test_boundary_map_is_offset_towards_origin(self):
        mask = square((8, 8), (2, 5), (2, 5))
        expected = square((8, 8), (1, 5), (1, 5)) & ~square((8, 8), (2, 4), (2, 4))
        np.testing.assert_array_equal(boundary_map(mask), expected)
        assert boundary_map(mask).sum() == 16

    def test_boundary_map_image_border(self):
        full = np.ones((3, 4), dtype=bool)
        assert not boundary_map(full).any()
        bottom_right = square((3, 4), (2, 2), (3, 3))
        expected = np.zeros((3, 4), dtype=bool)
        expected[1, 2] = expected[1, 3] = expected[2, 2] = True  # the corner pixel itself never counts
        np.testing.assert_array_equal(boundary_map(bottom_right), expected)

    def test_disk_and_radius(self):
        np.testing.assert_array_equal(disk(1), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
        assert disk(2).sum() == 13
        assert boundary_radius((10, 10)) == 1
        assert boundary_radius((480, 854)) == 8  # ceil(0.008 * 979.7)
        assert boundary_radius((1080, 1920)) == 18  # ceil(0.008 * 2202.9)
        assert boundary_radius((480, 854), bound_th=3) == 3

    def test_f_measure_hand_computed(self):
        # 12x12 image: radius ceil(0.008 * 16.97) = 1. GT boundary 16 px, prediction boundary 22 px;
        # 15 prediction pixels lie within 1 px of the GT boundary and 15 GT pixels near the prediction's.
        gt = square((12, 12), (2, 5), (2, 5))
        pred = square((12, 12), (2, 5), (2, 8))
        precision, recall = 15 / 22, 15 / 16
        assert boundary_f(gt, pred) == pytest.approx(2 * precision * recall / (precision + recall))
        assert boundary_f(gt, pred) == pytest.approx(15 / 19)

    def test_f_measure_edge_cases(self):
        empty = np.zeros((12, 12), dtype=bool)
        gt = square((12, 12), (2, 5), (2, 5))
        assert boundary_f(empty, empty) == 1.0
        assert boundary_f(gt, empty) == 0.0
        assert boundary_f(empty, gt) == 0.0
        assert boundary_f(gt, gt) == 1.0
        far = square((12, 12), (8, 10), (8, 10))
        assert boundary_f(gt, far) == 0.0
