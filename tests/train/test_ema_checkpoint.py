"""EMA arithmetic and training-checkpoint files (naming, pruning, atomic content, RNG round trip)."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from aot_plus.train.checkpoint import (ResumeError, capture_rng_state, latest_checkpoint, list_steps,
                                       load_training_state, restore_rng_state, save_ema_weights, save_training_state)
from aot_plus.train.ema import ModelEma


def test_ema_warmup_and_export():
    model = nn.Linear(2, 1)
    model.bias.requires_grad = False
    ema = ModelEma(model, decay=0.9995)
    assert set(ema.shadow) == {"weight"}
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update()  # n = 1: d = 2/11, the shadow keeps 2/11
    assert torch.allclose(ema.shadow["weight"], start + 9 / 11)
    ema.num_updates = 20000
    assert ema.current_decay() == 0.9995
    exported = ema.model_state_dict(model)
    assert torch.equal(exported["weight"], ema.shadow["weight"]) and torch.equal(exported["bias"], model.bias)
    other = ModelEma(model, decay=0.5)
    other.load_state_dict(ema.state_dict())
    assert other.num_updates == 20000 and other.decay == 0.9995


def test_checkpoint_naming_pruning_and_resume_errors(tmp_path):
    for step in (10, 20, 30):
        save_training_state(tmp_path, step, {"model": {"w": torch.ones(1) * step}}, keep_last=2)
        save_ema_weights(tmp_path, step, {"w": torch.zeros(1)}, keep_last=2)
    (tmp_path / "ckpt" / "notes.txt").write_text("not a checkpoint")
    assert [s for s, _ in list_steps(tmp_path / "ckpt")] == [20, 30]
    assert [s for s, _ in list_steps(tmp_path / "ema")] == [20, 30]
    latest = latest_checkpoint(tmp_path)
    assert latest.name == "step_0000030.pt"
    state = load_training_state(latest)
    assert state["step"] == 30 and float(state["model"]["w"]) == 30
    assert not list(tmp_path.glob("ckpt/.*tmp"))
    with pytest.raises(ResumeError, match="not found"):
        load_training_state(tmp_path / "missing.pt")
    with pytest.raises(ResumeError, match="not an aot_plus training checkpoint"):
        load_training_state(tmp_path / "ema" / "step_0000030.pth")


def test_rng_round_trip():
    state = capture_rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    restore_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
