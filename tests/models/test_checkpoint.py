"""Checkpoint reading (wrappers, prefixes, EMA files), strict and non-strict matching, atomic saving."""
import argparse

import pytest
import torch
from torch import nn

from aot_plus.models.checkpoint import (CheckpointError, LoadReport, load_checkpoint_file, load_imagenet_backbone,
                                        load_weights, save_checkpoint)
from aot_plus.models.encoders import FrozenBatchNorm2d, build_encoder


class Tiny(nn.Module):
    """A model with a 4-D weight, a bias, a linear layer and frozen-BN buffers."""

    def __init__(self, id_channels: int = 12) -> None:
        super().__init__()
        self.patch_wise_id_bank = nn.Conv2d(id_channels, 4, kernel_size=3)
        self.head = nn.Linear(4, 2)
        self.bn = FrozenBatchNorm2d(4)


def _random_state(model: nn.Module, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return {key: torch.randn(value.shape, generator=generator) for key, value in model.state_dict().items()}


def _assert_state_equal(model: nn.Module, state: dict) -> None:
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("wrap", ["raw", "state_dict", "model", "ema_training_file", "ddp_prefix"])
def test_load_variants(tmp_path, wrap):
    state = _random_state(Tiny())
    payload = {
        "raw": state,
        "state_dict": {"state_dict": state},
        "model": {"model": state},
        # RMem/EMFS/aot-benchmark EMA files: the averaged weights under 'state_dict' plus optimiser/scaler state.
        "ema_training_file": {"state_dict": state, "optimizer": {"state": {}, "param_groups": []},
                              "scaler": {"scale": 65536.0}},
        "ddp_prefix": {"state_dict": {f"module.{key}": value for key, value in state.items()}},
    }[wrap]
    path = save_checkpoint(tmp_path / "ckpt.pth", payload)
    assert load_checkpoint_file(path).keys() == state.keys()
    model = Tiny()
    report = load_weights(model, path)
    assert report.exact and set(report.loaded) == set(state)
    _assert_state_equal(model, state)


def test_named_entry_and_mapping_source(tmp_path):
    live, averaged = _random_state(Tiny(), 1), _random_state(Tiny(), 2)
    path = save_checkpoint(tmp_path / "resume.pth", {"state_dict": live, "ema": averaged, "step": 7})
    model = Tiny()
    load_weights(model, load_checkpoint_file(path, entry="ema"))
    _assert_state_equal(model, averaged)
    with pytest.raises(CheckpointError, match="no entry 'average'.*'state_dict', 'ema', 'step'"):
        load_checkpoint_file(path, entry="average")


def test_strict_failure_report_names_every_problem():
    model = Tiny()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    state = _random_state(Tiny(id_channels=11))
    del state["head.bias"]
    state["LSTT.mask_token"] = torch.zeros(1, 1, 256)
    state["bn.running_var"] = torch.ones(5)
    with pytest.raises(CheckpointError) as caught:
        load_weights(model, state)
    message = str(caught.value)
    assert "strict" in message and "Tiny" in message
    assert "patch_wise_id_bank.weight: file (4, 11, 3, 3) vs model (4, 12, 3, 3)" in message
    assert "bn.running_var: file (5,) vs model (4,)" in message
    assert "missing in file (kept model values): 1\n  head.bias" in message
    assert "unexpected in file: 1\n  LSTT.mask_token" in message
    report = caught.value.report
    assert report.missing == ("head.bias",) and report.unexpected == ("LSTT.mask_token",)
    _assert_state_equal(model, before)


def test_non_strict_zoo_to_vost_rule():
    """11-channel zoo id bank into a 12-channel model: first channels copied, the ignore channel kept."""
    model = Tiny(id_channels=12)
    init = {key: value.clone() for key, value in model.state_dict().items()}
    zoo = _random_state(Tiny(id_channels=11))
    del zoo["head.bias"]
    zoo["bn.running_mean"] = torch.ones(7)
    zoo["LSTT.layers.0.short_term_attn.relative_emb_v"] = torch.zeros(8, 225)
    report = load_weights(model, {f"module.{k}": v for k, v in zoo.items()}, strict=False)
    weight = model.patch_wise_id_bank.weight
    assert torch.equal(weight[:, :11], zoo["patch_wise_id_bank.weight"])
    assert torch.equal(weight[:, 11], init["patch_wise_id_bank.weight"][:, 11])
    assert torch.equal(model.patch_wise_id_bank.bias, zoo["patch_wise_id_bank.bias"])
    assert torch.equal(model.head.bias, init["head.bias"])
    assert torch.equal(model.bn.running_mean, init["bn.running_mean"])
    assert report.partially_copied == (("patch_wise_id_bank.weight", (4, 11, 3, 3), (4, 12, 3, 3)),)
    assert report.skipped_mismatched == (("bn.running_mean", (7,), (4,)),)
    assert report.missing == ("head.bias",)
    assert report.unexpected == ("LSTT.layers.0.short_term_attn.relative_emb_v",)
    assert set(report.loaded) == {"patch_wise_id_bank.bias", "head.weight", "bn.weight", "bn.bias", "bn.running_var"}
    assert not report.exact


def test_missing_file_errors(tmp_path):
    missing = tmp_path / "nowhere" / "model.pth"
    with pytest.raises(FileNotFoundError, match=r"checkpoint file not found: .*nowhere/model\.pth.*'state_dict'"):
        load_weights(Tiny(), missing)
    with pytest.raises(FileNotFoundError, match=r"encoder 'resnet50' not found: .*resnet50-0676ba61\.pth"):
        load_imagenet_backbone(build_encoder("resnet50"), missing, "resnet50")


def test_bad_contents(tmp_path):
    path = save_checkpoint(tmp_path / "opt_only.pth", {"optimizer": {"state": {}}, "step": 3})
    with pytest.raises(CheckpointError, match="'optimizer' is a dict, not a tensor.*'optimizer', 'step'"):
        load_checkpoint_file(path)
    state = _random_state(Tiny())
    clash = {"head.bias": state["head.bias"], "module.head.bias": state["head.bias"]}
    with pytest.raises(CheckpointError, match="name the same weight"):
        load_weights(Tiny(), clash)
    pickled = save_checkpoint(tmp_path / "pickled.pth", {"state_dict": state, "args": argparse.Namespace(lr=1)})
    with pytest.raises(CheckpointError, match="allow_pickle=True"):
        load_checkpoint_file(pickled)
    assert load_checkpoint_file(pickled, allow_pickle=True).keys() == state.keys()
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="garbage.pth"):
        load_checkpoint_file(garbage)


def test_imagenet_backbone_ignores_classifier_parts(tmp_path):
    encoder = build_encoder("resnet50")
    torchvision_like = _random_state(encoder)
    torchvision_like.update({"layer4.0.conv1.weight": torch.zeros(512, 1024, 1, 1), "fc.weight": torch.zeros(10, 2048),
                             "fc.bias": torch.zeros(10), "bn1.num_batches_tracked": torch.tensor(5)})
    path = save_checkpoint(tmp_path / "resnet50-0676ba61.pth", torchvision_like)
    report = load_imagenet_backbone(encoder, path, "resnet50")
    assert report.exact
    assert set(report.ignored) == {"layer4.0.conv1.weight", "fc.weight", "fc.bias", "bn1.num_batches_tracked"}
    assert torch.equal(encoder.layer3[5].bn3.running_var, torchvision_like["layer3.5.bn3.running_var"])
    wrong = save_checkpoint(tmp_path / "mobilenet.pth", _random_state(build_encoder("mobilenetv2")))
    with pytest.raises(CheckpointError, match="no weight matches encoder 'resnet50'"):
        load_imagenet_backbone(build_encoder("resnet50"), wrong, "resnet50")


def test_report_format_truncates():
    report = LoadReport(loaded=("a",), missing=tuple(f"k{i}" for i in range(25)))
    text = report.format(max_keys=3)
    assert text.splitlines() == ["loaded 1 keys", "missing in file (kept model values): 25", "  k0", "  k1", "  k2",
                                 "  ... and 22 more"]


def test_save_checkpoint_is_atomic(tmp_path):
    target = tmp_path / "deep" / "dir" / "save_step_500.pth"
    save_checkpoint(target, {"state_dict": {"w": torch.ones(2)}})
    with pytest.raises(Exception):
        save_checkpoint(target, {"state_dict": {"w": torch.zeros(2)}, "bad": lambda: None})
    assert torch.equal(load_checkpoint_file(target)["w"], torch.ones(2))
    assert [p.name for p in target.parent.iterdir()] == ["save_step_500.pth"]
