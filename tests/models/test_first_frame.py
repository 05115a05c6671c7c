"""Reference frame + frame 1 of the public parity cases: module outputs and ``probs[0]`` match the reference.

Module outputs are captured with forward hooks and compared with ``intermediates.npz`` (relative tolerance 1e-4 of
each tensor's scale); the probabilities of frame 1 with atol 2e-3 (``parity/README.md``).
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from aot_plus.engine import SessionConfig, VideoSession
from aot_plus.models.build import build_model
from aot_plus.parity import case_memory_config, case_model_config, fill_weights, load_case, normalize_frame

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "parity"
NAMES = ["aott_unbounded", "r50_aotl_tpe_rmem", "r50_deaotl_tpe_emfs"]


def _capture(model):
    calls = {}

    def hook(name):
        def record(_module, _inputs, output):
            outputs = [output.x, output.y] if hasattr(output, "x") else [output]
            calls.setdefault(name, []).append([o.detach().clone() for o in outputs if o is not None])
        return record

    modules = {"encoder_projector": model.encoder_projector, "patch_wise_id_bank": model.patch_wise_id_bank,
               "decoder": model.decoder}
    modules.update({f"LSTT.layers.{i}": layer for i, layer in enumerate(model.LSTT.layers)})
    for name, module in modules.items():
        module.register_forward_hook(hook(name))
    return calls


def _assert_close(ours: torch.Tensor, ref: np.ndarray, name: str) -> None:
    ref = torch.from_numpy(ref)
    assert tuple(ours.shape) == tuple(ref.shape), name
    scale = float(ref.abs().max())
    diff = float((ours - ref).abs().max())
    assert diff <= 1e-4 * scale + 1e-6, f"{name}: max diff {diff:.3e} at scale {scale:.3e}"


@pytest.mark.parametrize("name", NAMES)
def test_reference_frame_and_frame_one(name):
    case_dir = CASES / name
    case, arrays = load_case(case_dir)
    cfg = case_model_config(case, case_dir / "case.json")
    model = build_model(cfg)
    fill_weights(model, case["seed"], case["scale_rule"])
    model.eval()
    calls = _capture(model)
    session = VideoSession(model, case_memory_config(case, cfg.family, case_dir / "case.json"),
                           SessionConfig(mask_unused_ids=case["identity_channels_masked"]))
    session.add_reference(normalize_frame(arrays["frames"][0]), torch.from_numpy(arrays["first_label"]), 0,
                          obj_ids=range(1, case["objects"] + 1))
    probs = session.step(normalize_frame(arrays["frames"][1]), output_size=arrays["first_label"].shape)

    diff = float((probs[0] - torch.from_numpy(arrays["probs"][0].astype(np.float32))).abs().max())
    assert diff <= 2e-3, f"probs[0] max diff {diff:.2e}"

    compared = 0
    with np.load(case_dir / "intermediates.npz") as inter:
        for module in ("encoder_projector", "patch_wise_id_bank") + tuple(f"LSTT.layers.{i}" for i in range(cfg.num_layers)):
            for call, outputs in enumerate(calls[module]):
                key = f"{module}/call{call}/out0"
                if key in inter.files:
                    _assert_close(outputs[0], inter[key], key)
                    compared += 1
        # The zoo engine does not decode its reference frame: its decoder call0 is frame 1.
        ref_key = "decoder/call0/out0" if case["flavor"] == "aot" else "decoder/call1/out0"
        _assert_close(calls["decoder"][0][0], inter[ref_key], ref_key)
        assert len(calls["LSTT.layers.0"]) == 2
    assert compared == 3 + 2 * cfg.num_layers  # projector x2, identity bank, every layer on both frames
