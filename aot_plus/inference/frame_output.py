"""What :class:`~aot_plus.inference.predictor.VideoPredictor` yields per frame, and the per-object scores."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch


@dataclass(frozen=True)
class FrameOutput:
    """The result of one frame; unpacks as ``frame_idx, obj_ids, masks, scores``.

    Attributes:
        frame_idx: the frame's index in the video.
        obj_ids: the objects tracked at this frame, in identity order.
        label: ``[H, W]`` uint8 map of object ids at the output size (0 = background): what palette PNGs hold.
        scores: ``[N]`` float32, per object of ``obj_ids``: the mean probability of its pixels (1.0 for an
            object given by a mask on this frame, 0.0 when it has no pixel).
    """

    frame_idx: int
    obj_ids: tuple[int, ...]
    label: np.ndarray
    scores: np.ndarray

    @property
    def masks(self) -> np.ndarray:
        """``[N, H, W]`` boolean masks, one per object of ``obj_ids`` (disjoint)."""
        ids = np.asarray(self.obj_ids, dtype=np.uint8).reshape(-1, 1, 1)
        return self.label[None] == ids

    @property
    def empty_objects(self) -> tuple[int, ...]:
        """The objects of ``obj_ids`` with no pixel on this frame (e.g. to warn about lost objects)."""
        present = set(np.unique(self.label).tolist())
        return tuple(i for i in self.obj_ids if i not in present)

    def __iter__(self) -> Iterator:
        return iter((self.frame_idx, self.obj_ids, self.masks, self.scores))


def object_scores(probs: torch.Tensor, label: torch.Tensor, count: int) -> torch.Tensor:
    """Per identity 1..count: the mean over the pixels labelled with it of its probability (0 without pixels).

    Args:
        probs: ``[1, C, H, W]`` probabilities (C > count).
        label: ``[H, W]`` identity map (the arg-max, possibly overridden by given masks).
        count: identities to score.
    """
    label = label.long()
    flat = label.reshape(-1)
    winning = probs[0].float().gather(0, label[None]).reshape(-1)
    channels = probs.shape[1]
    sums = torch.zeros(channels, device=probs.device).scatter_add_(0, flat, winning)
    counts = torch.bincount(flat, minlength=channels).clamp(min=1)
    return (sums / counts)[1:count + 1]
