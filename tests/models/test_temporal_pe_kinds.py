"""Temporal PE variants: the weight-free sinusoidal kind keeps every released key listing loadable and changes
the outputs of a network that otherwise has the same weights."""
from pathlib import Path

import pytest
import torch

from aot_plus.memory import MemoryBank
from aot_plus.models import ModelConfig, build_model
from aot_plus.models.checkpoint import load_weights
from aot_plus.models.config import TemporalPEConfig
from aot_plus.models.keys import load_model_config

LISTINGS = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "state_dict_keys"
NAMES = sorted(p.stem for p in LISTINGS.glob("*.txt"))
LEARNED_KEYS = {"cur_pos_emb", "mem_pos_emb"}
SINUSOIDAL = ["model.temporal_pe.enabled=true", "model.temporal_pe.kind=sinusoidal"]


def _released_state(name: str) -> dict[str, torch.Tensor]:
    """A state dict in the released layout of ``name`` (zeros of each listed shape and dtype)."""
    state = {}
    for line in (LISTINGS / f"{name}.txt").read_text().splitlines():
        key, shape, dtype = line.split("\t")
        state[key] = torch.zeros(eval(shape), dtype=getattr(torch, dtype))  # noqa: S307 (a tuple literal)
    return state


@pytest.mark.parametrize("name", NAMES)
def test_sinusoidal_kind_adds_no_key_and_loads_the_released_layout(name):
    released = _released_state(name)
    model = build_model(load_model_config(name, SINUSOIDAL))
    ours = model.state_dict()
    assert set(ours) <= set(released), sorted(set(ours) - set(released))[:5]
    assert set(released) - set(ours) <= LEARNED_KEYS
    report = load_weights(model, released, strict=not (LEARNED_KEYS & set(released)))
    assert not report.missing and not report.skipped_mismatched and set(report.unexpected) <= LEARNED_KEYS


def test_sinusoidal_kind_changes_outputs_with_the_same_weights():
    torch.manual_seed(0)
    plain = build_model(ModelConfig()).eval()
    sinusoidal = build_model(ModelConfig(temporal_pe=TemporalPEConfig(enabled=True, kind="sinusoidal"))).eval()
    sinusoidal.load_state_dict(plain.state_dict(), strict=True)
    assert sinusoidal.temporal_pe(3) is not None and plain.temporal_pe(3) is None
    generator = torch.Generator().manual_seed(1)
    frames = [torch.randn(1, 3, 65, 65, generator=generator) for _ in range(4)]
    onehot = torch.zeros(1, 11, 65, 65)
    onehot[:, 0] = 1.0
    onehot[:, :, 10:30, 20:40] = torch.eye(11)[1][None, :, None, None]
    outputs = []
    with torch.no_grad():
        for model in (plain, sinusoidal):
            bank, short = MemoryBank(), None
            id_emb = model.embed_identity(model.identity_map(onehot))
            values = torch.Generator().manual_seed(2)
            for index, frame in enumerate(frames[:3]):
                long_entries, short = model.memorize(model.propagate(model.encode(frame), id_emb=id_emb), id_emb)
                key, value = long_entries[0]
                # distinct values per memory frame, so a change of the attention weights shows in the output
                bank.append(index, [(key, torch.randn(value.shape, generator=values))])
            stack = model.propagate(model.encode(frames[3]), [bank.layer(0)], short, need_mass=True)
            outputs.append((stack.features[-1], stack.mass))
    (plain_out, plain_mass), (sin_out, sin_mass) = outputs
    assert float((plain_mass - sin_mass).abs().max()) > 1e-2  # the memory frames are weighted differently
    assert float((plain_out - sin_out).abs().max()) > 1e-3  # and the transformer output changes
