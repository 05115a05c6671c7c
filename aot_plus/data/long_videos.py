"""Long Videos reader (``data.md`` 1.4): single-object evaluation, results at height 480.

The dataset's layout is ``JPEGImages/480p/<seq>``, ``Annotations/480p/<seq>``, ``ImageSets/2017/<split>.txt``;
the flat layout (``JPEGImages/<seq>``, ``ImageSets/<split>.txt``) that RMem's metric expects is accepted too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from aot_plus.data.davis import DAVISEval


class LongVideosEval(DAVISEval):
    """Long Videos evaluation: every frame, the first annotation binarised, results at height 480.

    Args:
        root: dataset root.
        split: list name (``val``).
    """

    name = "long_videos"

    def __init__(self, root: Union[str, Path], split: str = "val") -> None:
        super().__init__(root, split=split, year=2017, resolution="auto", single_object=True)
