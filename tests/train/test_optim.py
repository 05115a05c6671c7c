"""Parameter groups, weight-decay exemptions and the LR schedule (``docs/training-recipe.md``)."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from aot_plus.train.config import TrainConfig
from aot_plus.train.optim import apply_schedule, build_optimizer, learning_rate, param_groups


class Toy(nn.Module):
    """Names chosen to hit every weight-decay rule."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.ModuleDict({"stem": nn.Conv2d(3, 4, 3), "layer2": nn.Conv2d(4, 4, 3)})
        self.encoder_projector = nn.Conv2d(4, 4, 1)
        self.decoder = nn.ModuleDict({"conv_out": nn.Conv2d(4, 2, 1), "norm": nn.LayerNorm(4)})
        self.short_term_attn = nn.Module()
        self.short_term_attn.relative_emb_k = nn.Conv2d(4, 9, 1)
        self.short_term_attn.relative_emb_v = nn.Parameter(torch.zeros(1, 4, 9))
        self.patch_wise_id_bank = nn.Conv2d(12, 4, 3)
        self.cur_pos_emb = nn.Parameter(torch.zeros(1, 4))
        for p in self.encoder["stem"].parameters():
            p.requires_grad = False


def _decay_by_name(model: nn.Module, cfg: TrainConfig) -> dict[str, float]:
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: g["weight_decay"] for g in param_groups(model, cfg) for p in g["params"]}


def test_weight_decay_rules():
    cfg = TrainConfig()
    decay = _decay_by_name(Toy(), cfg)
    assert "encoder.stem.weight" not in decay  # frozen: not in the optimiser
    assert decay["encoder.layer2.weight"] == 0.07
    assert decay["encoder.layer2.bias"] == 0.0
    assert decay["encoder_projector.weight"] == 0.07
    assert decay["decoder.conv_out.weight"] == 0.0
    assert decay["decoder.norm.weight"] == 0.0  # 1-D
    assert decay["short_term_attn.relative_emb_k.weight"] == 0.07  # only relative_emb_v is exempt
    assert decay["short_term_attn.relative_emb_v"] == 0.0
    assert decay["patch_wise_id_bank.weight"] == 0.07
    assert decay["cur_pos_emb"] == 0.07


def test_schedule_values_and_groups():
    cfg = TrainConfig()
    assert learning_rate(0, cfg) == pytest.approx(1e-5)
    assert learning_rate(500, cfg) == pytest.approx(1e-5 + 1.9e-4 * 0.5)
    assert learning_rate(1000, cfg) == pytest.approx(2e-4)
    assert learning_rate(20000, cfg) == pytest.approx(1e-5 + 1.9e-4 * (1 / 19001) ** 0.9)
    assert learning_rate(10500, cfg) == pytest.approx(1e-5 + 1.9e-4 * (1 - 9500 / 19001) ** 0.9)
    model = Toy()
    opt = build_optimizer(model, cfg)
    assert isinstance(opt, torch.optim.AdamW)
    eta = apply_schedule(opt, 5000, cfg)
    by_name = {g["name"]: g for g in opt.param_groups}
    assert by_name["main"]["lr"] == eta
    assert by_name["encoder"]["lr"] == pytest.approx(1e-5 + 0.1 * (eta - 1e-5))
    assert by_name["main_seq_frozen"]["lr"] == eta
    apply_schedule(opt, 10000, cfg)  # sequence training: id bank frozen
    assert by_name["main_seq_frozen"]["lr"] == 0.0 and by_name["main_seq_frozen"]["weight_decay"] == 0.0
    assert by_name["main"]["weight_decay"] == 0.07


def test_cosine_schedule_endpoints():
    cfg = TrainConfig(lr_schedule="cosine", total_steps=100, lr_warmup_ratio=0.0)
    assert learning_rate(0, cfg) == pytest.approx(2e-4)
    assert learning_rate(50, cfg) == pytest.approx(1e-5 + 1.9e-4 * (math.cos(math.pi * 50 / 101) + 1) / 2)
