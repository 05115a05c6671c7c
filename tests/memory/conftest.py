"""Shared fixtures of the memory tests: the parity cases and small synthetic evidence."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import pytest
import torch

from aot_plus.memory import Evidence

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "memory"


def _load_case(name: str) -> dict:
    folder = FIXTURES / name
    case = json.loads((folder / "case.json").read_text())
    with np.load(folder / "policy_inputs.npz") as data:
        inputs = {key: data[key] for key in data.files}
    with np.load(folder / "lowres_logits.npz") as data:
        logits = data["lowres_logits"]
        logits_id = str(data["fixture_id"])
    assert str(inputs["fixture_id"]) == case["fixture_id"] == logits_id, f"{folder} mixes fixture generations"
    return {"name": name, "case": case, "inputs": inputs, "lowres_logits": logits}


@pytest.fixture(params=["r50_aotl_tpe_rmem", "r50_deaotl_tpe_emfs"])
def relevance_case(request) -> dict:
    """A relevance-policy parity case: ``name``, ``case`` (case.json), ``inputs`` (policy_inputs), ``lowres_logits``."""
    return _load_case(request.param)


@pytest.fixture
def make_evidence() -> Callable[..., Evidence]:
    """Builds evidence whose normalised relevance is ``values / sum(values)`` (one query token, foreground 1)."""

    def build(values: Sequence[float], keys: Optional[torch.Tensor] = None) -> Evidence:
        mass = torch.tensor([list(values)], dtype=torch.float32)
        return Evidence(attention_mass=mass, foreground=torch.ones(1), keys=keys)

    return build
