"""Build the network of a config and load its weights for inference."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional, Union

from torch import nn

from aot_plus.models import build_model
from aot_plus.models.checkpoint import load_checkpoint_file, load_weights

log = logging.getLogger(__name__)


def load_model(cfg: Any, checkpoint: Optional[Union[str, Path]]) -> nn.Module:
    """The network of ``cfg.model`` with the weights of ``checkpoint``, in eval mode, on the CPU.

    Args:
        cfg: the experiment config (``model`` and ``eval.strict_load`` / ``eval.checkpoint_entry`` are read).
        checkpoint: a weights file (state dict, ``{'state_dict': ...}`` training/EMA files); None keeps the
            random initialisation, for debugging only.

    Raises:
        FileNotFoundError: the file does not exist.
        aot_plus.models.checkpoint.CheckpointError: unreadable, or (strict) keys or shapes differ.
    """
    model = build_model(cfg.model)
    if checkpoint is None:
        log.warning("no checkpoint (--ckpt none): the network keeps its random initialisation")
    else:
        entry = cfg.eval.checkpoint_entry
        source = checkpoint if entry is None else load_checkpoint_file(checkpoint, entry=entry)
        report = load_weights(model, source, strict=cfg.eval.strict_load)
        log.info("loaded %s: %s", checkpoint, report.format() if not report.exact else "every key matched")
    return model.eval()
