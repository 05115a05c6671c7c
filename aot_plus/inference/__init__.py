"""Inference on videos: the ``eval`` config, the per-video predictor, dataset evaluation and result writing.

The public names are imported lazily, so reading the config schema (which imports :mod:`.config`) does not load
the networks.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EvalConfig": "aot_plus.inference.config",
    "VideoPredictor": "aot_plus.inference.predictor",
    "FrameOutput": "aot_plus.inference.frame_output",
    "FrameSource": "aot_plus.inference.frame_source",
    "load_model": "aot_plus.inference.model_loading",
    "EvalJob": "aot_plus.inference.runner",
    "evaluate_dataset": "aot_plus.inference.runner",
    "SequenceWriter": "aot_plus.inference.writer",
    "ResultsLayout": "aot_plus.inference.writer",
    "save_palette_png": "aot_plus.inference.writer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'aot_plus.inference' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
