"""Tests of the segmenter: object-id bookkeeping, later objects, test-time copies and the simple API."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from aot_plus.config import ConfigError, from_dict, load_config
from aot_plus.eval import build_parser
from aot_plus.inference.cli_args import parse, split_overrides
from aot_plus.inference.config import EvalConfig
from aot_plus.inference.segmenter import ObjectIds, VideoSegmenter
from aot_plus.models import build_model

from .conftest import BASE_OVERRIDES, CONFIG


def test_object_ids_follow_the_reference_reader():
    ids = ObjectIds()
    first = np.array([[0, 3], [255, 7]], np.uint8)
    ids.add(first)
    assert ids.ids == [0, 3, 7, 255] and ids.count == 3  # void becomes the last object
    np.testing.assert_array_equal(ids.squeeze(first), [[0, 1], [3, 2]])
    ids.add(np.array([[5, 3]], np.uint8))
    assert ids.ids == [0, 3, 7, 255, 5]
    np.testing.assert_array_equal(ids.restore(np.array([[4, 1, 9]], np.uint8)), [[5, 3, 0]])  # 9: unused identity


def test_eval_config_validation_and_augmentation_order():
    cfg = from_dict(EvalConfig, {"flip": True, "scales": [1.0, 1.2]})
    assert cfg.augmentations == [(1.0, False), (1.0, True), (1.2, False), (1.2, True)]
    with pytest.raises(ConfigError, match="scales"):
        from_dict(EvalConfig, {"scales": []}, "eval.yaml")
    with pytest.raises(ConfigError, match="mask_unused"):
        from_dict(EvalConfig, {"mask_unused": True}, "eval.yaml")


def test_split_overrides_anywhere():
    parser = build_parser()
    argv = ["--scales", "1.0", "1.2", "memory=fifo", "--config", "a=b.yaml", "eval.flip=true", "--output",
            "x=y", "--dataset", "vost", "--ckpt", "none"]
    rest, overrides = split_overrides(argv, parser)
    assert overrides == ["memory=fifo", "eval.flip=true"]
    assert rest == ["--scales", "1.0", "1.2", "--config", "a=b.yaml", "--output", "x=y", "--dataset", "vost",
                    "--ckpt", "none"]
    args = parse(parser, argv + ["--flip"])
    assert args.scales == [1.0, 1.2] and args.config == "a=b.yaml"
    assert args.overrides == ["memory=fifo", "eval.flip=true", "eval.flip=true", "eval.scales=[1.0, 1.2]"]


def _video(count: int, height: int = 33, width: int = 49) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


@pytest.fixture(scope="module")
def tiny_model(experiment):
    torch.manual_seed(3)
    return build_model(experiment.model)


def test_segment_yields_one_mask_per_frame(tiny_model, experiment):
    first = np.zeros((33, 49), np.uint8)
    first[5:20, 5:25] = 4
    first[22:30, 30:45] = 9
    masks = list(VideoSegmenter(tiny_model, experiment, torch.device("cpu")).segment(_video(4), first))
    assert len(masks) == 4
    np.testing.assert_array_equal(masks[0], first)
    for mask in masks[1:]:
        assert mask.shape == first.shape and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 4, 9}


def test_later_object_overrides_the_prediction(tiny_model, experiment):
    first = np.zeros((33, 49), np.uint8)
    first[5:20, 5:25] = 1
    later = np.zeros_like(first)
    later[20:30, 30:45] = 6
    segmenter = VideoSegmenter(tiny_model, experiment, torch.device("cpu"))
    results = list(segmenter.run(_video(5), {0: first, 2: later}, 5, output_size=(33, 49)))
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert (results[2].mask[later > 0] == 6).all()
    assert all(r.seconds > 0 for r in results[1:])
    assert segmenter.sessions[0].num_objects == 2
    assert 2 in segmenter.sessions[0].kept_frames  # the new reference entered the memory


def test_flip_and_scales_run_one_session_each(tiny_model, experiment):
    cfg = dataclasses.replace(experiment, eval=dataclasses.replace(experiment.eval, flip=True, scales=(1.0, 1.5)))
    first = np.zeros((33, 49), np.uint8)
    first[5:20, 5:25] = 1
    segmenter = VideoSegmenter(tiny_model, cfg, torch.device("cpu"))
    masks = list(segmenter.segment(_video(3), first))
    assert len(segmenter.sessions) == 4 and len(masks) == 3
    assert all(m.shape == (33, 49) for m in masks)


def test_first_frame_needs_a_mask(tiny_model, experiment):
    segmenter = VideoSegmenter(tiny_model, experiment, torch.device("cpu"))
    with pytest.raises(ValueError, match="first frame"):
        list(segmenter.run(_video(2), {}, 2))
    with pytest.raises(ValueError, match="frame 0: mask is 5x5"):
        list(segmenter.run(_video(2), {0: np.zeros((5, 5), np.uint8)}, 2))


@pytest.mark.parametrize("memory", ["fifo", "rmem", "emfs", "unbounded"])
def test_every_policy_runs_through_the_segmenter(tiny_model, memory):
    cfg = load_config(CONFIG, (*BASE_OVERRIDES, f"memory={memory}", "memory.long_term_gap=1",
                               "memory.max_recent_frames=2"))
    first = np.zeros((33, 49), np.uint8)
    first[5:20, 5:25] = 1
    segmenter = VideoSegmenter(tiny_model, cfg, torch.device("cpu"))
    masks = list(segmenter.segment(_video(7), first))
    assert len(masks) == 7
    kept = segmenter.sessions[0].kept_frames
    assert kept[0] == 0 and kept[-1] == 6
    assert len(kept) == (7 if memory == "unbounded" else 3)
