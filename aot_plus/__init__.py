"""aot_plus: AOT / DeAOT video object segmentation with restricted memory banks (RMem, EMFS, FIFO).

``aot_plus.VideoPredictor`` is the per-video Python API (imported on first use, so ``import aot_plus`` stays
light).
"""
from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "VideoPredictor":
        from aot_plus.inference.predictor import VideoPredictor
        return VideoPredictor
    raise AttributeError(f"module 'aot_plus' has no attribute {name!r}")
