"""A user's video as a plain folder of frames plus the first frame's mask."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from aot_plus.data.io import IMAGE_SUFFIXES, list_files, require_dir
from aot_plus.data.sequence import EvalSequence


def folder_sequence(frames_dir: Union[str, Path], first_mask: Union[str, Path], name: Optional[str] = None,
                    binarize: bool = False) -> EvalSequence:
    """A sequence of every image in ``frames_dir`` (sorted by name) with ``first_mask`` on the first frame.

    Args:
        frames_dir: folder of frames (.jpg, .jpeg, .png, .bmp); the mask file is excluded if it lies there.
        first_mask: palette or grey-scale PNG of object ids for the first frame.
        name: sequence name (default: the folder's name).
        binarize: merge every object of the mask into one.

    Raises:
        DatasetError: the folder is missing or holds no image, or the mask is missing.
    """
    frames_dir = require_dir(frames_dir, "frames")
    mask = Path(first_mask)
    frames = [frames_dir / f for f in list_files(frames_dir, IMAGE_SUFFIXES)]
    frames = [f for f in frames if f.resolve() != mask.resolve()]
    return EvalSequence(name or frames_dir.name, frames, {0: mask}, binarize=binarize)
