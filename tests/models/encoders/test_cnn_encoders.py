"""MobileNetV2 and ResNet-50 encoders: reference keys, output shapes, freeze_at, builder errors."""
import pytest
import torch
from torch import nn

from aot_plus.models.encoders import (FrozenBatchNorm2d, build_encoder, encoder_dims, encoder_info, freeze)

CNNS = ("mobilenetv2", "resnet50")


@pytest.fixture(scope="module")
def encoders():
    return {name: build_encoder(name).eval() for name in CNNS}


@pytest.mark.parametrize("name", CNNS)
def test_keys_shapes_dtypes_equal_every_listing(name, encoders, listings_by_encoder, rows_of):
    rows = rows_of(encoders[name])
    stems = listings_by_encoder[name]
    assert len(stems) == {"mobilenetv2": 12, "resnet50": 4}[name]
    for stem, expected in stems.items():
        assert rows == expected, stem
    assert len(rows) == {"mobilenetv2": 260, "resnet50": 215}[name]


@pytest.mark.parametrize("name", CNNS)
def test_outputs_129(name, encoders):
    with torch.no_grad():
        outputs = encoders[name](torch.randn(2, 3, 129, 129))
    dims = encoder_dims(name)
    assert [tuple(o.shape) for o in outputs] == [(2, dims[0], 33, 33), (2, dims[1], 17, 17),
                                                 (2, dims[2], 9, 9), (2, dims[3], 9, 9)]
    assert all(o.dtype == torch.float32 for o in outputs)


def test_resnet_x16_prime_is_x16_and_odd_sizes(encoders):
    with torch.no_grad():
        outputs = encoders["resnet50"](torch.randn(1, 3, 100, 75))
    assert outputs[3] is outputs[2]
    assert [tuple(o.shape[-2:]) for o in outputs] == [(25, 19), (13, 10), (7, 5), (7, 5)]


def test_frozen_bn_everywhere_and_plain_bn_option(encoders):
    for name in CNNS:
        norms = [m for m in encoders[name].modules() if isinstance(m, (nn.BatchNorm2d, FrozenBatchNorm2d))]
        assert norms and all(isinstance(m, FrozenBatchNorm2d) for m in norms)
    plain = build_encoder("resnet50", frozen_bn=False)
    assert any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert "bn1.num_batches_tracked" in plain.state_dict()


def _frozen(module):
    return {key for key, param in module.named_parameters() if not param.requires_grad}


def test_resnet_freeze_at():
    assert _frozen(build_encoder("resnet50", freeze_at=0)) == set()
    assert _frozen(build_encoder("resnet50", freeze_at=1)) == {"conv1.weight"}
    frozen = _frozen(build_encoder("resnet50", freeze_at=2))
    assert "conv1.weight" in frozen and "layer1.2.conv3.weight" in frozen
    assert not any(key.startswith(("layer2.", "layer3.")) for key in frozen)
    plain = build_encoder("resnet50", freeze_at=2, frozen_bn=False)
    assert "bn1.weight" in _frozen(plain) and "layer1.0.downsample.1.bias" in _frozen(plain)
    assert plain.layer2[0].bn1.weight.requires_grad
    everything = build_encoder("resnet50", freeze_at=4)
    assert all(not p.requires_grad for p in everything.parameters())


def test_mobilenet_freeze_at():
    assert _frozen(build_encoder("mobilenetv2", freeze_at=1)) == {"features.0.0.weight"}
    frozen = _frozen(build_encoder("mobilenetv2", freeze_at=2))
    assert {key.split(".")[1] for key in frozen} == {"0", "1", "2", "3"}
    frozen = _frozen(build_encoder("mobilenetv2", freeze_at=3))
    assert {key.split(".")[1] for key in frozen} == {str(i) for i in range(7)}


def test_freeze_function_and_errors():
    encoder = build_encoder("mobilenetv2")
    freeze(encoder, 1)
    assert not encoder.features[0][0].weight.requires_grad
    with pytest.raises(TypeError, match="build_encoder"):
        freeze(nn.Conv2d(1, 1, 1), 1)
    with pytest.raises(ValueError, match="resnet50"):
        build_encoder("resnet18")
    assert encoder_dims("swin_base") == (128, 256, 512, 512)
    assert encoder_info("resnet50").imagenet_file == "resnet50-0676ba61.pth"
