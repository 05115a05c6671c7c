"""Optimiser parameter groups and the learning-rate schedule (``docs/training-recipe.md``).

The reference builds one group per parameter tensor and re-tags groups by name substrings every step. We build
a handful of groups keyed by what matters for the update (encoder or not, decayed or not, frozen in sequence
training or not); every parameter still gets exactly the reference's LR and weight decay.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from torch import nn

from aot_plus.train.config import TrainConfig

log = logging.getLogger(__name__)

#: Name prefix of the encoder's parameters in the released state_dict layout.
ENCODER_PREFIX = "encoder."


@dataclass(frozen=True)
class GroupKey:
    """What decides a parameter's LR and weight decay.

    Attributes:
        encoder: the parameter belongs to the encoder (its LR is scaled by ``encoder_lr_ratio``).
        decay: the parameter gets weight decay.
        seq_frozen: the parameter stops training in the sequence-training phase (LR and decay become 0).
    """

    encoder: bool
    decay: bool
    seq_frozen: bool

    @property
    def name(self) -> str:
        """A readable group name (stored in the optimizer's group dict)."""
        return (("encoder" if self.encoder else "main") + ("" if self.decay else "_no_decay")
                + ("_seq_frozen" if self.seq_frozen else ""))


def _has_component(name: str, components: tuple[str, ...]) -> bool:
    parts = name.split(".")
    return any(c in parts for c in components)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def group_key(name: str, param: torch.Tensor, cfg: TrainConfig) -> GroupKey:
    """Classify one trainable parameter of the (unwrapped) model by its state_dict name.

    Weight decay (as the reference): 1-D tensors never decay (biases, norm weights; the reference's exception for
    trainable encoder BatchNorm weights never applies because every CNN encoder uses frozen BN); tensors with two
    or more dimensions decay unless a name component is in ``cfg.no_weight_decay_names``.
    """
    decay = param.ndim >= 2 and cfg.weight_decay > 0 and not _has_component(name, cfg.no_weight_decay_names)
    return GroupKey(encoder=name.startswith(ENCODER_PREFIX), decay=decay,
                    seq_frozen=_under(name, cfg.seq_training_frozen_modules))


def param_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    """Parameter groups of the trainable (``requires_grad``) parameters, deduplicated, in a fixed order.

    Each group dict carries ``name``, ``encoder``, ``seq_frozen`` and ``base_weight_decay`` besides the usual
    ``params``, ``lr`` and ``weight_decay``.
    """
    groups: dict[GroupKey, list[nn.Parameter]] = {}
    seen: set[int] = set()
    total = 0
    for name, param in model.named_parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        total += param.numel()
        if param.requires_grad:
            groups.setdefault(group_key(name, param, cfg), []).append(param)
    trainable = sum(p.numel() for ps in groups.values() for p in ps)
    log.info("parameters: %.2fM in total, %.2fM trainable", total / 1e6, trainable / 1e6)
    out = []
    for key in sorted(groups, key=lambda k: k.name):
        wd = cfg.weight_decay if key.decay else 0.0
        out.append({"params": groups[key], "name": key.name, "encoder": key.encoder, "seq_frozen": key.seq_frozen,
                    "lr": cfg.lr, "weight_decay": wd, "base_weight_decay": wd})
    return out


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (PyTorch defaults, decoupled decay) or Nesterov SGD over :func:`param_groups`."""
    groups = param_groups(model, cfg)
    if not groups:
        raise ValueError("the model has no trainable parameters (check train.encoder_freeze_at)")
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.sgd_momentum, nesterov=True)
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """The base schedule eta(s): linear warm-up from ``lr_min``, then poly (or cosine) decay to ``lr_min``.

    After the warm-up W: ``lr_min + (lr - lr_min) * (1 - (s - W) / (T - W + 1)) ** power`` (the ``+ 1`` is the
    reference's: the floor is never reached exactly).
    """
    warmup, total = cfg.warmup_steps, float(cfg.total_steps)
    if step < warmup:
        return cfg.lr_min + (cfg.lr - cfg.lr_min) * step / warmup
    progress = (step - warmup) / (total - warmup + 1)
    if cfg.lr_schedule == "cosine":
        factor = (math.cos(math.pi * progress) + 1.0) * 0.5
    else:
        factor = max(1.0 - progress, 0.0) ** cfg.lr_power
    return cfg.lr_min + (cfg.lr - cfg.lr_min) * factor


def apply_schedule(optimizer: torch.optim.Optimizer, step: int, cfg: TrainConfig) -> float:
    """Set every group's LR (and weight decay) for ``step``; returns eta(s), the non-encoder rate.

    Encoder groups get ``lr_min + encoder_lr_ratio * (eta - lr_min)``. From the sequence-training start the
    groups of ``seq_training_frozen_modules`` get LR 0 and weight decay 0.
    """
    eta = learning_rate(step, cfg)
    frozen = step >= cfg.seq_training_start
    for group in optimizer.param_groups:
        if group["seq_frozen"] and frozen:
            group["lr"], group["weight_decay"] = 0.0, 0.0
            continue
        group["lr"] = cfg.lr_min + cfg.encoder_lr_ratio * (eta - cfg.lr_min) if group["encoder"] else eta
        group["weight_decay"] = group["base_weight_decay"]
    return eta
