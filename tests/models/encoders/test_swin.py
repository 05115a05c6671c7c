"""Swin-B encoder: reference keys, output shapes, shifted-window mask, freeze_at (built once: it is big)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from aot_plus.models.checkpoint import load_imagenet_backbone, save_checkpoint
from aot_plus.models.encoders import SwinEncoder, build_encoder, freeze
from aot_plus.models.encoders.swin import shifted_window_mask
from aot_plus.models.layers.basic import DropPath

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "encoders" / "swin_base_reference.npz"


@pytest.fixture(scope="module")
def swin():
    return build_encoder("swin_base", freeze_at=-1).eval()


def test_keys_shapes_dtypes_equal_listings(swin, listings_by_encoder, rows_of):
    rows = rows_of(swin)
    assert len(rows) == 324
    assert set(listings_by_encoder["swin_base"]) == {"aot_swinb_aotl", "aot_swinb_deaotl", "rmem_swinb_aotl"}
    for stem, expected in listings_by_encoder["swin_base"].items():
        assert rows == expected, stem
    index = swin.state_dict()["layers.0.blocks.0.attn.relative_position_index"]
    assert index[0, 0] == 84 and index[0, 48] == 0 and index[48, 0] == 168 and index.max() == 168
    # Drop-path rates rise linearly over all 24 blocks of Swin-B, the unbuilt fourth stage included.
    assert swin.layers[0].blocks[1].drop_path.p == pytest.approx(0.3 / 23)
    assert swin.layers[2].blocks[17].drop_path.p == pytest.approx(0.3 * 21 / 23)
    assert swin.layers[2].blocks[17].drop_path.batch_dim == 0


@pytest.mark.parametrize("size, grids", [((64, 96), [(16, 24), (8, 12), (4, 6)]),
                                         ((50, 37), [(13, 10), (7, 5), (4, 3)])])
def test_outputs(swin, size, grids):
    with torch.no_grad():
        outputs = swin(torch.randn(1, 3, *size))
    assert [tuple(o.shape) for o in outputs] == [(1, 128, *grids[0]), (1, 256, *grids[1]),
                                                 (1, 512, *grids[2]), (1, 512, *grids[2])]
    assert outputs[3] is outputs[2]


def test_shifted_window_mask_regions():
    mask = shifted_window_mask(14, 14, window=7, shift=3, device=torch.device("cpu"))
    assert mask.shape == (4, 49, 49)
    assert torch.all(mask[0] == 0)  # the top-left window holds no wrapped-around tokens
    assert set(mask[1].unique().tolist()) == {-100.0, 0.0}
    bottom_right = mask[3].view(7, 7, 7, 7)
    # Rows 0-3 / 4-6 and columns 0-3 / 4-6 of the last window come from four different regions.
    assert bottom_right[0, 0, 3, 3] == 0 and bottom_right[0, 0, 4, 0] == -100 and bottom_right[0, 0, 0, 4] == -100
    assert bottom_right[5, 5, 6, 6] == 0 and bottom_right[5, 5, 3, 6] == -100
    assert torch.equal(mask, mask.transpose(1, 2))


def test_freeze_at_rule():
    """Reference frozen_stages rule, on a small Swin (same code path as Swin-B)."""
    def frozen_after(freeze_at):
        encoder = SwinEncoder(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8))
        freeze(encoder, freeze_at)
        return encoder, {key for key, p in encoder.named_parameters() if not p.requires_grad}

    assert frozen_after(-1)[1] == set()
    assert frozen_after(1)[1] == {"patch_embed.proj.weight", "patch_embed.proj.bias", "patch_embed.norm.weight",
                                  "patch_embed.norm.bias"}
    encoder, frozen = frozen_after(2)
    assert {key.split(".blocks.")[0] for key in frozen} == {"patch_embed.proj.weight", "patch_embed.proj.bias",
                                                             "patch_embed.norm.weight", "patch_embed.norm.bias",
                                                             "layers.0"}
    assert encoder.layers[0].downsample.reduction.weight.requires_grad
    assert all(isinstance(b.drop_path, nn.Identity) for b in encoder.layers[0].blocks)
    assert isinstance(encoder.layers[1].blocks[1].drop_path, DropPath)
    encoder, frozen = frozen_after(3)
    # Only the last frozen stage's patch merging stays trainable (reference quirk).
    assert "layers.0.downsample.reduction.weight" in frozen
    assert encoder.layers[1].downsample.reduction.weight.requires_grad


def test_matches_reference_outputs(swin, fill_rule):
    """Outputs of the reference Swin code (same fill rule, int64 buffers kept) on a 50 x 37 input."""
    golden = np.load(GOLDEN)
    state = {key: value if value.dtype == torch.int64 else fill_rule("encoder." + key, value.shape, int(golden["seed"]))
             for key, value in swin.state_dict().items()}
    swin.load_state_dict(state)
    with torch.no_grad():
        outputs = swin(torch.from_numpy(golden["image"]))
    for index in range(3):
        expected = torch.from_numpy(golden[f"out{index}"])
        torch.testing.assert_close(outputs[index], expected, rtol=0, atol=1e-4 * float(expected.abs().max()))


def test_imagenet_file_layout_loads(swin, tmp_path):
    """The classification file's extra parts are ignored and only the three output norms stay at init."""
    state = {key: value.clone() for key, value in swin.state_dict().items() if not key.startswith("norm")}
    state.update({"layers.0.blocks.1.attn_mask": torch.zeros(64, 49, 49), "norm.weight": torch.ones(1024),
                  "head.weight": torch.zeros(21841, 1024), "layers.3.blocks.0.norm1.weight": torch.ones(1024),
                  "layers.2.downsample.reduction.weight": torch.zeros(1024, 2048)})
    path = save_checkpoint(tmp_path / "swin_base_patch4_window7_224_22k.pth", {"model": state})
    report = load_imagenet_backbone(swin, path, "swin_base")
    assert report.missing == ("norm0.weight", "norm0.bias", "norm1.weight", "norm1.bias", "norm2.weight",
                              "norm2.bias")
    assert not report.unexpected and not report.skipped_mismatched and len(report.ignored) == 5
