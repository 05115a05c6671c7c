"""DataConfig: reference defaults, partial overrides, validation."""
from __future__ import annotations

import pytest

from aot_plus.config import ConfigError, from_dict, load_config
from aot_plus.config.loader import configs_root
from aot_plus.data import build_train_dataset
from aot_plus.config.schema import ExperimentConfig
from aot_plus.data.config import DataConfig, model_crop_size


def test_reference_defaults() -> None:
    cfg = DataConfig()
    assert (cfg.vost.max_gap, cfg.vost.repeat, cfg.vost.ignore_thresh, cfg.vost.ignore_in_merge) == (3, 1, 0.2, True)
    assert (cfg.davis.max_gap, cfg.davis.repeat, cfg.davis.ignore_thresh, cfg.davis.ignore_in_merge) == (12, 5, 1.0,
                                                                                                       False)
    assert (cfg.youtubevos.max_gap, cfg.youtubevos.repeat, cfg.youtubevos.year) == (3, 1, 2019)
    assert cfg.vost.train_frames_dir == "JPEGImages" and cfg.vost.eval_frames_dir == "JPEGImages_10fps"
    clip, aug = cfg.clip, cfg.augment
    assert (clip.seq_len, clip.reverse_prob, clip.ref_min_pixels, clip.ref_max_draws, clip.max_attempts) == (
        15, 0.5, 200, 40, 5)
    assert (clip.max_total_gap, clip.gap_redraws, clip.merge_prob, clip.merge_min_pixels, clip.max_objects) == (
        99, 10, 0.2, 100, 10)
    # crop_size is unset here: the experiment config resolves it from the model (465 x 465 for the default model)
    assert (aug.crop_size, aug.min_scale, aug.max_scale, aug.short_edge, aug.crop_tries, aug.crop_min_pixels) == (
        None, 0.7, 1.3, 480, 5, 100)
    assert from_dict(ExperimentConfig, {}).data.augment.crop_size == (465, 465)
    assert aug.flip_prob == 0.5 and aug.pad_value == (124.0, 116.0, 104.0) and not aug.photometric.enabled
    assert cfg.static.merge_prob == 1.0 and cfg.static.jitter == (0.1, 0.1, 0.1, 0.03)
    assert cfg.mean == (0.485, 0.456, 0.406) and cfg.std == (0.229, 0.224, 0.225)


def test_partial_override_keeps_each_source_defaults() -> None:
    cfg = from_dict(DataConfig, {"vost": {"repeat": 2}, "davis": {"root": "/d"}, "clip": {"seq_len": 17}},
                    source="stage.yaml")
    assert cfg.vost.repeat == 2 and cfg.vost.ignore_thresh == 0.2 and cfg.vost.ignore_in_merge
    assert cfg.davis.root == "/d" and cfg.davis.max_gap == 12 and cfg.clip.seq_len == 17


def test_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="data.yaml"):
        from_dict(DataConfig, {"clip": {"seq_len": 1}}, source="data.yaml")
    with pytest.raises(ConfigError, match="clip.seq_lenn"):
        from_dict(DataConfig, {"clip": {"seq_lenn": 5}}, source="data.yaml")
    with pytest.raises(ConfigError, match="train_datasets"):
        from_dict(DataConfig, {"train_datasets": ["kinetics"]}, source="data.yaml")
    with pytest.raises(ConfigError, match="flip_prob"):
        from_dict(DataConfig, {"augment": {"flip_prob": 1.5}}, source="data.yaml")


@pytest.mark.parametrize("model, crop", [("rmem_swinb_aotl", (464, 464)), ("rmem_r50_aotl", (465, 465)),
                                         ("aot_swinb_deaotl", (464, 464)), ("rmem_r50_deaotl", (465, 465))])
def test_vost_stage_crop_follows_the_model_align_corners(model: str, crop: tuple[int, int]) -> None:
    stage = configs_root() / "stages" / "pre_vost_2.yaml"
    cfg = load_config(stage, [f"model={model}"])
    assert cfg.data.augment.crop_size == crop
    assert cfg.data.augment.crop_size == model_crop_size(cfg.model.align_corners)
    assert load_config(configs_root() / "vost" / "r50_aotl_rmem.yaml").data.augment.crop_size == (465, 465)
    explicit = load_config(stage, [f"model={model}", "data.augment.crop_size=[400, 400]"])
    assert explicit.data.augment.crop_size == (400, 400)


def test_unresolved_crop_is_refused_by_the_training_dataset() -> None:
    assert DataConfig().augment.crop_size is None
    assert DataConfig().for_model(False).augment.crop_size == (464, 464)
    with pytest.raises(ValueError, match="data.augment.crop_size is unset"):
        build_train_dataset(DataConfig())


def test_clip_start_values() -> None:
    assert DataConfig().clip.start == "annotated_index"
    cfg = from_dict(DataConfig, {"clip": {"start": "reference_frame"}}, source="stage.yaml")
    assert cfg.clip.start == "reference_frame"
    with pytest.raises(ConfigError, match="clip.start.*'first_frame' is not one of"):
        from_dict(DataConfig, {"clip": {"start": "first_frame"}}, source="stage.yaml")
