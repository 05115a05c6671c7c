"""Tests of the per-video predictor: masks on any frame, removal, streams, test-time copies, the gap rule."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from aot_plus.config import ConfigError, from_dict, load_config
from aot_plus.eval import build_parser
from aot_plus.inference.cli_args import parse, split_overrides
from aot_plus.inference.config import EvalConfig
from aot_plus.inference.predictor import VideoPredictor
from aot_plus.models import build_model

from .conftest import BASE_OVERRIDES, CONFIG

HEIGHT, WIDTH = 33, 49


def test_eval_config_validation_and_augmentation_order():
    cfg = from_dict(EvalConfig, {"flip": True, "scales": [1.0, 1.2]})
    assert cfg.augmentations == [(1.0, False), (1.0, True), (1.2, False), (1.2, True)]
    with pytest.raises(ConfigError, match="scales"):
        from_dict(EvalConfig, {"scales": []}, "eval.yaml")
    with pytest.raises(ConfigError, match="mask_unused"):
        from_dict(EvalConfig, {"mask_unused": True}, "eval.yaml")
    with pytest.raises(ConfigError, match="read_ahead_frames"):
        from_dict(EvalConfig, {"read_ahead_frames": 0}, "eval.yaml")


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


def _video(count: int, height: int = HEIGHT, width: int = WIDTH) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def _box(top: int, left: int, bottom: int, right: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[top:bottom, left:right] = True
    return mask


@pytest.fixture(scope="module")
def tiny_model(experiment):
    torch.manual_seed(3)
    return build_model(experiment.model)


def _predictor(model, cfg, *overrides: str) -> VideoPredictor:
    if overrides:
        cfg = load_config(CONFIG, (*BASE_OVERRIDES, *overrides))
    return VideoPredictor(model, cfg, torch.device("cpu"))


def _started(model, cfg, frames: int, masks: dict[tuple[int, int], np.ndarray], *overrides: str) -> VideoPredictor:
    """A predictor on a random video of ``frames`` frames with ``{(frame_idx, obj_id): mask}`` added."""
    predictor = _predictor(model, cfg, *overrides)
    predictor.init_state(_video(frames))
    for (frame_idx, obj_id), mask in masks.items():
        predictor.add_new_mask(frame_idx, obj_id, mask)
    return predictor


def test_propagate_yields_every_frame_from_the_first_mask(tiny_model, experiment):
    first = np.zeros((HEIGHT, WIDTH), np.uint8)
    first[5:20, 5:25] = 4
    first[22:30, 30:45] = 9
    predictor = _predictor(tiny_model, experiment)
    predictor.init_state(_video(4))
    assert predictor.add_label_map(0, first) == [4, 9]
    outputs = list(predictor.propagate_in_video())
    assert [o.frame_idx for o in outputs] == [0, 1, 2, 3]
    np.testing.assert_array_equal(outputs[0].label, first)
    frame_idx, obj_ids, masks, scores = outputs[0]
    assert frame_idx == 0 and obj_ids == (4, 9) and scores.tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(masks, np.stack([first == 4, first == 9]))
    for output in outputs[1:]:
        assert output.label.shape == first.shape and set(np.unique(output.label)) <= {0, 4, 9}
        assert output.masks.shape == (2, HEIGHT, WIDTH) and output.scores.dtype == np.float32
        for mask, score in zip(output.masks, output.scores):
            assert (0.0 < score <= 1.0) if mask.any() else score == 0.0
    assert predictor.frame_name(3) == "00003" and predictor.current_image is not None


def test_object_added_at_frame_5_is_tracked_from_frame_5(tiny_model, experiment):
    late = _box(20, 30, 30, 45)
    predictor = _started(tiny_model, experiment, 8, {(0, 1): _box(5, 5, 20, 25), (5, 7): late},
                         "memory.long_term_gap=50")
    ids_per_frame, objects_per_frame = {}, {}
    for output in predictor.propagate_in_video():
        ids_per_frame[output.frame_idx] = output.obj_ids
        objects_per_frame[output.frame_idx] = predictor.sessions[0].num_objects
        if output.frame_idx == 5:
            np.testing.assert_array_equal(output.masks[1], late)
            assert output.scores[1] == 1.0
    assert [ids_per_frame[i] for i in range(8)] == [(1,)] * 5 + [(1, 7)] * 3
    assert [objects_per_frame[i] for i in range(8)] == [1] * 5 + [2] * 3
    assert predictor.kept_frames == (0, 5)  # gap 50: frame 5 is in memory only as the new reference


def test_two_annotated_frames_of_one_object_both_enter_memory(tiny_model, experiment):
    second = _box(8, 10, 25, 30)
    predictor = _started(tiny_model, experiment, 9, {(0, 2): _box(5, 5, 20, 25), (4, 2): second},
                         "memory.long_term_gap=3")
    outputs = {o.frame_idx: o for o in predictor.propagate_in_video()}
    np.testing.assert_array_equal(outputs[4].label == 2, second)
    assert predictor.kept_frames == (0, 3, 4, 7)  # gap 3 counts again from the reference at frame 4
    assert predictor.sessions[0].num_objects == 1


def test_remove_object_stops_its_masks(tiny_model, experiment):
    def run(remove: bool) -> dict[int, np.ndarray]:
        predictor = _predictor(tiny_model, experiment)
        predictor.init_state(_video(7))
        predictor.add_new_mask(0, 1, _box(0, 0, 33, 20))
        for frame in range(3):
            predictor.add_new_mask(frame, 2, _box(5, 25, 30, 49))
        predictor.add_new_mask(5, 2, _box(5, 25, 30, 49))  # dropped by the removal
        labels = {}
        for output in predictor.propagate_in_video():
            labels[output.frame_idx] = output.label
            if output.frame_idx == 2 and remove:
                predictor.remove_object(2)
                assert predictor.obj_ids == (1,)
                with pytest.raises(ValueError, match="object 3 is not tracked"):
                    predictor.remove_object(3)
        return labels

    kept, removed = run(False), run(True)
    # Without the removal, object 2 is given on frames 0-2 and 5 and predicted (seeded weights) on frames 3 and 6.
    assert all((kept[i] == 2).any() for i in (0, 1, 2, 3, 5, 6))
    for frame in range(3):
        np.testing.assert_array_equal(removed[frame], kept[frame])
    assert not any((removed[i] == 2).any() for i in range(3, 7))


def test_iterator_without_length_needs_a_fixed_gap(tiny_model, experiment):
    def camera():
        yield from _video(6)

    per_sequence = _predictor(tiny_model, experiment, "memory.long_term_gap.mode=per_sequence")
    with pytest.raises(ValueError, match="num_frames=N.*memory.long_term_gap=5"):
        per_sequence.init_state(camera())
    per_sequence.init_state(camera(), num_frames=6)  # a known length is enough
    assert per_sequence.gap == 5

    fixed = _predictor(tiny_model, experiment, "memory.long_term_gap=2")
    fixed.init_state(camera())
    assert fixed.num_frames is None
    fixed.add_new_mask(0, 1, _box(5, 5, 20, 25))
    assert [o.frame_idx for o in fixed.propagate_in_video()] == list(range(6))
    assert fixed.kept_frames == (0, 2, 4)


def test_stopping_early_and_reset_state(tiny_model, experiment):
    predictor = _started(tiny_model, experiment, 5, {(0, 1): _box(5, 5, 20, 25)})
    for output in predictor.propagate_in_video():
        if output.frame_idx == 1:
            break
    assert [o.frame_idx for o in predictor.propagate_in_video()] == [2, 3, 4]  # goes on where it stopped
    with pytest.raises(ValueError, match="propagated already"):
        predictor.add_new_mask(3, 1, _box(5, 5, 20, 25))
    predictor.reset_state()  # a list starts again from frame 0, with no object
    assert predictor.obj_ids == () and predictor.sessions == []
    with pytest.raises(ValueError, match="add a mask"):
        next(predictor.propagate_in_video())
    predictor.add_new_mask(2, 3, _box(5, 5, 20, 25))
    assert [o.frame_idx for o in predictor.propagate_in_video()] == [2, 3, 4]  # frames 0-1 come before the mask

    stream = _predictor(tiny_model, experiment, "memory.long_term_gap=5")
    stream.init_state(iter(_video(5)))
    stream.add_new_mask(0, 1, _box(5, 5, 20, 25))
    for output in stream.propagate_in_video():
        if output.frame_idx == 1:
            break
    stream.reset_state()  # a stream goes on with its next frame
    stream.add_new_mask(2, 1, _box(5, 5, 20, 25))
    assert [o.frame_idx for o in stream.propagate_in_video()] == [2, 3, 4]
    assert stream.kept_frames == (2,)


def test_bad_masks_are_named(tiny_model, experiment):
    predictor = _predictor(tiny_model, experiment)
    predictor.init_state(_video(3))
    with pytest.raises(ValueError, match="1..255"):
        predictor.add_new_mask(0, 256, _box(0, 0, 5, 5))
    with pytest.raises(ValueError, match="beyond the video"):
        predictor.add_new_mask(3, 1, _box(0, 0, 5, 5))
    predictor.add_new_mask(0, 1, np.zeros((5, 5), bool))
    with pytest.raises(ValueError, match="frame 0: the mask of object 1 is 5x5 but the frame is 49x33"):
        list(predictor.propagate_in_video())
    with pytest.raises(RuntimeError, match="init_state"):
        VideoPredictor(tiny_model, experiment, "cpu").add_new_mask(0, 1, _box(0, 0, 5, 5))


def test_flip_and_scales_run_one_session_each(tiny_model, experiment):
    cfg = dataclasses.replace(experiment, eval=dataclasses.replace(experiment.eval, flip=True, scales=(1.0, 1.5)))
    predictor = _started(tiny_model, cfg, 3, {(0, 1): _box(5, 5, 20, 25)})
    outputs = list(predictor.propagate_in_video())
    assert len(predictor.sessions) == 4 and len(outputs) == 3
    assert all(o.label.shape == (HEIGHT, WIDTH) for o in outputs)


@pytest.mark.parametrize("memory", ["fifo", "rmem", "emfs", "unbounded"])
def test_every_policy_runs_through_the_predictor(tiny_model, memory):
    predictor = _started(tiny_model, None, 7, {(0, 1): _box(5, 5, 20, 25)}, f"memory={memory}",
                         "memory.long_term_gap=1", "memory.max_recent_frames=2")
    assert len(list(predictor.propagate_in_video())) == 7
    kept = predictor.kept_frames
    assert kept[0] == 0 and kept[-1] == 6
    assert len(kept) == (7 if memory == "unbounded" else 3)


def test_from_config_builds_a_predictor(checkpoint):
    predictor = VideoPredictor.from_config(CONFIG, checkpoint, overrides=BASE_OVERRIDES)
    assert predictor.device.type == "cpu" and not predictor.model.training


def test_static_storage_and_channels_last_give_the_same_masks(experiment):
    outputs = {}
    for storage, channels_last in (("growing", "false"), ("static", "true")):
        torch.manual_seed(3)
        model = build_model(experiment.model)  # channels-last converts the weights in place: a model of its own
        predictor = _started(model, None, 6, {(0, 1): _box(5, 5, 20, 25)}, "memory.long_term_gap=1",
                             "memory.max_recent_frames=2", f"memory.storage={storage}",
                             f"eval.channels_last={channels_last}")
        outputs[storage] = [o.label for o in predictor.propagate_in_video()]
        assert predictor.kept_frames == (0, 4, 5)
    for want, got in zip(outputs["growing"], outputs["static"], strict=True):
        np.testing.assert_array_equal(got, want)


def test_compile_needs_static_storage(tiny_model, experiment):
    args = parse(build_parser(), ["--config", "c.yaml", "--output", "out", "--dataset", "vost", "--ckpt", "none",
                                  "--compile"])
    assert "eval.compile=true" in args.overrides
    cfg = dataclasses.replace(experiment, eval=dataclasses.replace(experiment.eval, compile=True))
    with pytest.raises(ValueError, match="eval.compile needs memory.storage: static"):
        VideoPredictor(tiny_model, cfg, torch.device("cpu"))
