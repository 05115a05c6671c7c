"""Long Videos reader: single-object evaluation, results at height 480 by default (``docs/benchmarks.md``).

The dataset's layout is ``JPEGImages/480p/<seq>``, ``Annotations/480p/<seq>``, ``ImageSets/2017/<split>.txt``;
the flat layout (``JPEGImages/<seq>``, ``ImageSets/<split>.txt``) that RMem's metric expects is accepted too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from aot_plus.data.davis import DAVISEval


class LongVideosEval(DAVISEval):
    """Long Videos evaluation: every frame, the first annotation binarised, results resized to one height.

    The metric scores the annotated frames only (every N frames), so the results must have the annotations'
    size: 480 for the 480p release; None keeps each video's own size.

    Args:
        root: dataset root.
        split: list name (``val``).
        output_height: height of the result PNGs (width ``ceil(w * h_out / h)``), None for the frames' size.
    """

    name = "long_videos"

    def __init__(self, root: Union[str, Path], split: str = "val", output_height: Optional[int] = 480) -> None:
        super().__init__(root, split=split, year=2017, resolution="auto", single_object=True)
        self.output_height = output_height
