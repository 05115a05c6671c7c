"""Exponential moving average of the trainable weights (``docs/training-recipe.md``, EMA).

After every optimiser step: ``n += 1; d = min(decay, (1 + n) / (10 + n)); shadow -= (1 - d) * (shadow - param)``.
Only parameters that train are tracked (frozen encoder stages and frozen-BN buffers are copied from the live
model when the EMA weights are exported). Unlike the reference, the shadow starts from the weights the run
actually starts from (after pretrained loading); the warm-up term makes the difference vanish quickly anyway.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


class ModelEma:
    """Shadow copies of a model's trainable parameters, keyed by state_dict name.

    Args:
        model: the unwrapped model; its ``requires_grad`` parameters at construction are tracked.
        decay: upper bound of the decay (``1 - 1 / (T * ema_ratio)``).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"EMA decay must lie in [0, 1], got {decay}")
        self.decay = decay
        self.num_updates = 0
        self._params = {name: p for name, p in model.named_parameters() if p.requires_grad}
        self.shadow = {name: p.detach().clone() for name, p in self._params.items()}

    def current_decay(self) -> float:
        """The decay the next update will use."""
        n = self.num_updates + 1
        return min(self.decay, (1.0 + n) / (10.0 + n))

    @torch.no_grad()
    def update(self) -> None:
        """Move the shadow towards the live parameters (call after each optimiser step)."""
        one_minus = 1.0 - self.current_decay()
        self.num_updates += 1
        names = list(self.shadow)
        shadow = [self.shadow[n] for n in names]
        live = [self._params[n].detach() for n in names]
        diff = torch._foreach_sub(shadow, live)
        torch._foreach_mul_(diff, one_minus)
        torch._foreach_sub_(shadow, diff)

    def model_state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The model's full state_dict with the tracked parameters replaced by their averages (CPU copies)."""
        out = {}
        for name, value in model.state_dict().items():
            out[name] = (self.shadow[name] if name in self.shadow else value).detach().cpu().clone()
        return out

    def state_dict(self) -> dict[str, Any]:
        """Resumable state: update counter, decay cap and shadow tensors."""
        return {"num_updates": self.num_updates, "decay": self.decay,
                "shadow": {k: v.detach().cpu().clone() for k, v in self.shadow.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the tracked names must match exactly."""
        shadow = state["shadow"]
        if set(shadow) != set(self.shadow):
            missing = sorted(set(self.shadow) - set(shadow))
            extra = sorted(set(shadow) - set(self.shadow))
            raise ValueError(f"EMA state does not match the model's trainable parameters "
                             f"(missing {missing[:5]}, unexpected {extra[:5]})")
        for name, value in shadow.items():
            self.shadow[name].copy_(value)
        self.num_updates = int(state["num_updates"])
        self.decay = float(state["decay"])
