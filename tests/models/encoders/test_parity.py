"""Encoder outputs match the reference's recorded intermediates (parity fill rule, frame 0 of two cases)."""
from pathlib import Path

import numpy as np
import pytest
import torch

from aot_plus.models.encoders import build_encoder

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "encoders"
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


@pytest.mark.parametrize("case, name, grid", [("aott_unbounded", "mobilenetv2", 11),
                                              ("r50_aotl_tpe_rmem", "resnet50", 10)])
def test_encoder_matches_intermediates(case, name, grid, fill_rule):
    data = np.load(FIXTURES / f"{case}_encoder_call0.npz")
    encoder = build_encoder(name).eval()
    seed = int(data["seed"])
    encoder.load_state_dict({key: fill_rule("encoder." + key, value.shape, seed)
                             for key, value in encoder.state_dict().items()})
    image = (data["frame0"].astype(np.float32) / 255.0 - MEAN) / STD
    with torch.no_grad():
        outputs = encoder(torch.from_numpy(image).permute(2, 0, 1)[None])
    assert outputs[3].shape[-2:] == (grid, grid)
    for index, output in enumerate(outputs):
        prefix = f"encoder/call0/out{index}"
        assert tuple(output.shape) == tuple(data[prefix + "@shape"])
        values = torch.from_numpy(data[prefix + "@value"])
        sampled = output.reshape(-1)[torch.from_numpy(data[prefix + "@index"])]
        scale = float(values.abs().max())
        torch.testing.assert_close(sampled, values, rtol=0, atol=1e-4 * scale)
        total, total_abs = data[prefix + "@sum"]
        assert output.double().sum().item() == pytest.approx(total, rel=1e-5)
        assert output.double().abs().sum().item() == pytest.approx(total_abs, rel=1e-5)
