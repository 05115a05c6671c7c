"""Dynamic merge: paste a second augmented clip over the first, frame by frame (``docs/clip-sampling.md``).

The second clip's labelled pixels (objects and void) replace the first clip's image and label; objects are
renumbered from the merged reference frame (those with more than ``min_pixels`` pixels, at most
``max_objects``); optionally the void of either clip is restored where the merged label is background.
"""
from __future__ import annotations

import numpy as np

from aot_plus.data.transforms import VOID, Clip

_SHIFT = 10
"""Offset added to the second clip's ids (the reference's object cap): first-clip ids 1..10, second 11..20."""


def merge_clips(first: Clip, second: Clip, rng: np.random.Generator, min_pixels: int, max_objects: int,
                keep_void: bool) -> Clip:
    """Merge ``second`` into ``first`` (same frame count and size).

    Args:
        first: the base clip (its name and frame count are kept).
        second: the clip pasted where its label is non-zero.
        rng: source of the random subset when more than ``max_objects`` objects survive.
        min_pixels: objects need more pixels than this on the merged reference frame.
        max_objects: cap on the merged objects.
        keep_void: where the merged label is background, restore void of the first, then of the second clip.

    Returns:
        The merged clip; objects are 1..K ordered first clip's ids then second clip's ids (ascending), or a
        random order when more than ``max_objects`` survive.
    """
    if len(first.labels) != len(second.labels) or first.labels[0].shape != second.labels[0].shape:
        raise ValueError("merged clips must have the same number of frames and the same size")
    combined = []
    for label1, label2 in zip(first.labels, second.labels):
        fg2 = label2 > 0
        combined.append(np.where(fg2, label2.astype(np.int32) + _SHIFT, label1.astype(np.int32)))
    candidates = np.arange(1, 2 * _SHIFT + 1)
    counts = np.bincount(combined[0].ravel(), minlength=VOID + _SHIFT + 1)[candidates]
    kept = [int(c) for c, n in zip(candidates, counts) if n > min_pixels]
    if len(kept) > max_objects:
        kept = [kept[i] for i in rng.permutation(len(kept))[:max_objects]]
    lut = np.zeros(VOID + _SHIFT + 1, dtype=np.uint8)
    for new_id, old_id in enumerate(kept, start=1):
        lut[old_id] = new_id
    images, labels = [], []
    for image1, image2, label1, label2, merged in zip(first.images, second.images, first.labels, second.labels,
                                                      combined):
        fg2 = (label2 > 0)[..., None]
        images.append(np.where(fg2, image2, image1).astype(np.float32))
        out = lut[merged]
        if keep_void:
            out[(out == 0) & (label1 == VOID)] = VOID
            out[(out == 0) & (label2 == VOID)] = VOID
        labels.append(out)
    return Clip(name=first.name, frame_num=first.frame_num, images=images, labels=labels,
                obj_num=len(kept))
