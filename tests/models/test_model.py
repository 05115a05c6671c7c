"""Frame API of the networks: shapes, identity input, reference mode vs explicit memories."""
import dataclasses

import pytest
import torch

from aot_plus.models import ModelConfig, build_model
from aot_plus.models.config import TemporalPEConfig

SMALL = dict(encoder="mobilenetv2", num_layers=2)
VARIANTS = {
    "vost": ModelConfig(**SMALL, temporal_pe=TemporalPEConfig(enabled=True, slots=4)),
    "vost_linear_q": ModelConfig(**SMALL, linear_q=True),
    "zoo": ModelConfig(**SMALL, aot_block="zoo", ignore_token=False),
    "deaot": ModelConfig(**SMALL, family="deaot", self_heads=1, att_heads=1, decoder_intermediate=False,
                         temporal_pe=TemporalPEConfig(enabled=True, slots=2)),
    "deaot_zoo": ModelConfig(**SMALL, family="deaot", self_heads=1, att_heads=1, decoder_intermediate=False,
                             ignore_token=False),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def model(request):
    torch.manual_seed(0)
    net = build_model(VARIANTS[request.param]).eval()
    for name, param in net.named_parameters():
        if name.endswith("relative_emb_v"):
            torch.nn.init.normal_(param, std=0.1)
    return net


def _label(h, w):
    label = torch.zeros(h, w, dtype=torch.long)
    label[5:30, 5:25] = 1
    label[30:60, 30:60] = 2
    return label


@torch.no_grad()
def test_reference_mode_equals_propagation_over_its_own_entries(model):
    image = torch.randn(1, 3, 65, 65)
    onehot = (_label(65, 65)[None, None] == torch.arange(11).view(1, -1, 1, 1)).float()
    id_emb = model.embed_identity(model.identity_map(onehot))
    feats = model.encode(image)
    assert [f.shape[-1] for f in feats] == [17, 9, 5, 5]
    assert id_emb.shape == (25, 1, 256)
    reference = model.propagate(feats, id_emb=id_emb)
    long_entries, _ = model.memorize(reference, id_emb)
    # A reference frame attends to its own long-term entry, as both long- and short-term memory.
    explicit = model.propagate(feats, [tuple(t[None] for t in e) for e in long_entries], long_entries)
    for ours, theirs in zip(reference.features, explicit.features):
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    logits = model.decode(feats, reference)
    assert logits.shape == (1, 11, 17, 17)


@torch.no_grad()
def test_propagation_over_a_bank_returns_the_attention_mass(model):
    feats = model.encode(torch.randn(1, 3, 65, 65))
    onehot = (_label(65, 65)[None, None] == torch.arange(11).view(1, -1, 1, 1)).float()
    id_emb = model.embed_identity(model.identity_map(onehot))
    long_entries, short_entries = model.memorize(model.propagate(feats, id_emb=id_emb), id_emb)
    bank = [tuple(torch.stack([t] * 5) for t in entry) for entry in long_entries]
    stack = model.propagate(feats, bank, short_entries, need_mass=True)
    assert stack.mass.shape == (1, 25, 5)
    torch.testing.assert_close(stack.mass.sum(-1), torch.ones(1, 25))
    assert model.propagate(feats, bank, short_entries).mass is None


def test_identity_map_with_and_without_ignore_token():
    onehot = torch.zeros(1, 11, 4, 4)
    onehot[:, 0] = 1
    ignore = torch.zeros(1, 1, 4, 4)
    ignore[..., 0, 0] = 1
    net = build_model(ModelConfig())
    out = net.identity_map(onehot, ignore)
    assert out.shape == (1, 12, 4, 4)
    assert out[0, 0, 0, 0] == 0 and out[0, 11, 0, 0] == 1 and out[0, 0, 1, 1] == 1
    dropped = net.identity_map(onehot)
    assert dropped[0, 0, 0, 0] == 1 and dropped[0, 11].abs().sum() == 0
    zoo = build_model(dataclasses.replace(ModelConfig(), aot_block="zoo", ignore_token=False))
    assert torch.equal(zoo.identity_map(onehot, ignore), onehot)


def test_temporal_pe_parameters_and_widths():
    aot = build_model(ModelConfig(temporal_pe=TemporalPEConfig(enabled=True)))
    assert aot.cur_pos_emb.shape == (1, 256) and aot.mem_pos_emb.shape == (4, 256)
    assert float(aot.mem_pos_emb.detach().abs().max()) < 0.5
    deaot = build_model(VARIANTS["deaot"])
    assert deaot.mem_pos_emb.shape == (2, 128)
    assert build_model(ModelConfig()).temporal_pe(3) is None
    assert aot.temporal_pe(6).memory.shape == (6, 256)
