"""memory.storage=static equals the growing bank on the reference parity cases (FIFO, RMem, EMFS).

Both sessions run in lockstep on a case's frames with teacher forcing (the reference's fed-back labels): every
frame's probabilities must agree within 1e-5 and the kept frames must be identical. FIFO runs on the RMem case's
model and data with the policy swapped. The ``cuda`` variant (skipped without a GPU) runs the same comparison on
the GPU in fp32 with TF32 off.
"""
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from aot_plus.engine import SessionConfig, VideoSession
from aot_plus.memory import FifoConfig, MemoryConfig, RMemConfig, StaticMemoryBank
from aot_plus.models import ModelConfig
from aot_plus.models.build import build_model
from aot_plus.models.config import TemporalPEConfig
from aot_plus.parity import case_memory_config, case_model_config, fill_weights, load_case, normalize_frame

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "parity"


@pytest.fixture
def device(request):
    """The parametrised device; TF32 off on CUDA (it would move fp32 results by about 1e-3)."""
    if request.param == "cpu":
        yield torch.device("cpu")
        return
    previous = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = previous


def _sessions(name: str, policy: str, device: torch.device):
    case_dir = CASES / name
    case, arrays = load_case(case_dir)
    cfg = case_model_config(case, case_dir / "case.json")
    model = build_model(cfg)
    fill_weights(model, case["seed"], case["scale_rule"])
    model.to(device).eval()
    memory = case_memory_config(case, cfg.family, case_dir / "case.json")
    if policy == "fifo":
        memory = dataclasses.replace(memory, policy=FifoConfig())
    assert memory.policy.name == policy
    session_cfg = SessionConfig(mask_unused_ids=case["identity_channels_masked"])
    growing = VideoSession(model, memory, session_cfg)
    static = VideoSession(model, dataclasses.replace(memory, storage="static"), session_cfg)
    return case, arrays, growing, static


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)], indirect=True)
@pytest.mark.parametrize("name, policy", [("r50_aotl_tpe_rmem", "fifo"), ("r50_aotl_tpe_rmem", "rmem"),
                                          ("r50_deaotl_tpe_emfs", "emfs")])
def test_static_storage_equals_growing_bank(name, policy, device):
    case, arrays, growing, static = _sessions(name, policy, device)
    frames = [normalize_frame(frame, device) for frame in arrays["frames"]]
    first = torch.from_numpy(arrays["first_label"].astype(np.int64)).to(device)
    for session in (growing, static):
        session.add_reference(frames[0], first, 0, obj_ids=range(1, case["objects"] + 1))
    kept_sizes = set()
    worst = 0.0
    for t in range(1, len(frames)):
        want, got = growing.step(frames[t]), static.step(frames[t])
        worst = max(worst, float((want - got).abs().max()))
        label = torch.from_numpy(arrays["pred_labels"][t - 1].astype(np.int64)).to(device)
        growing.update(label)
        static.update(label)
        assert static.kept_frames == growing.kept_frames, f"frame {t}"
        kept_sizes.add(len(static.kept_frames))
    assert worst <= 1e-5, f"max |dp| {worst:.2e}"
    bank = static.memories[0].bank
    assert isinstance(bank, StaticMemoryBank) and bank.layer(0)[0].shape[0] == bank.capacity
    # The case fills the bank and then evicts: partly filled and full banks were both compared.
    assert len(kept_sizes) > 1 and max(kept_sizes) == bank.capacity


@pytest.mark.parametrize("kind", ["learned", "sinusoidal"])
def test_static_storage_with_either_temporal_embedding(kind):
    """The slots' temporal PE is padded for both kinds (the sinusoidal current-frame row depends on the count)."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(embed_dim=32, feedforward_dim=64, self_heads=2, att_heads=2,
                                    temporal_pe=TemporalPEConfig(enabled=True, kind=kind))).eval()
    memory = MemoryConfig(max_recent_frames=2, long_term_gap=1, policy=RMemConfig())
    growing, static = VideoSession(model, memory), VideoSession(model, dataclasses.replace(memory, storage="static"))
    gen = torch.Generator().manual_seed(1)
    images = [torch.randn(1, 3, 33, 33, generator=gen) for _ in range(7)]
    label = torch.zeros(33, 33, dtype=torch.long)
    label[4:20, 6:24] = 1
    for session in (growing, static):
        session.add_reference(images[0], label)
    for image in images[1:]:
        want, got = growing.step(image), static.step(image)
        assert float((want - got).abs().max()) <= 1e-5
        growing.update(want)
        static.update(want)
        assert static.kept_frames == growing.kept_frames
    assert len(static.kept_frames) == 3
