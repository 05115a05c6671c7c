"""scripts/export_weights.py: float16 model files that load back into the float32 model."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from aot_plus.models.checkpoint import load_checkpoint_file, load_weights

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "export_weights.py"
spec = importlib.util.spec_from_file_location("export_weights", SCRIPT)
export_weights = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export_weights)


def test_half_precision_file_loads_back(tmp_path):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    model[1].running_mean.uniform_()
    model[1].num_batches_tracked += 7
    source = tmp_path / "ema.pth"
    torch.save({"state_dict": model.state_dict(), "step": 3}, source)
    out = tmp_path / "ship" / "model.pth"
    assert export_weights.main(["--ckpt", str(source), "--out", str(out), "--note", "how"]) == 0
    weights = load_checkpoint_file(out)
    assert weights["0.weight"].dtype == torch.float16
    assert weights["1.num_batches_tracked"].dtype == torch.int64 and int(weights["1.num_batches_tracked"]) == 7
    assert torch.load(out, weights_only=True)["note"] == "how"
    fresh = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    assert load_weights(fresh, out).exact
    assert fresh[0].weight.dtype == torch.float32
    assert torch.allclose(fresh[0].weight, model[0].weight, atol=1e-3, rtol=1e-3)
    assert torch.allclose(fresh[1].running_mean, model[1].running_mean, atol=1e-3)


def test_missing_input_is_one_line_error(tmp_path, capsys):
    assert export_weights.main(["--ckpt", str(tmp_path / "nope.pth"), "--out", str(tmp_path / "o.pth")]) == 2
    assert "nope.pth" in capsys.readouterr().err
