"""Tests of frame sources (folder, video file, list, iterator) and of the bounded read-ahead queue."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from aot_plus.inference.frame_source import FrameSource, ReadAhead
from aot_plus.inference.video_io import OverlayVideoWriter


def _frames(count: int) -> list[np.ndarray]:
    return [np.full((16, 24, 3), 10 * i, np.uint8) for i in range(count)]


def test_folder_video_file_list_and_iterator(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(_frames(3)):
        Image.fromarray(frame).save(folder / f"f{i * 5}.png")  # natural order: f0, f5, f10
    source = FrameSource(folder)
    assert source.length == 3 and source.rewindable and [source.frame_name(i) for i in range(3)] == ["f0", "f5", "f10"]
    assert source.first_frame_size() == (16, 24) and source.first_frame.endswith("f0.png")
    assert [int(f[0, 0, 0]) for f in source.open()] == [0, 10, 20]

    video = tmp_path / "clip.avi"
    writer = OverlayVideoWriter(video, fps=5)
    for frame in _frames(4):
        writer.write(frame)
    writer.close()
    from_file = FrameSource(video)
    assert from_file.is_video_file and from_file.length is None and from_file.length_hint == 4
    assert from_file.count() == 4 and from_file.length == 4 and from_file.frame_name(2) == "00002"
    assert from_file.fps == 5

    listed = FrameSource(_frames(2))
    assert listed.length == 2 and listed.rewindable and listed.first_frame_size() == (16, 24)
    with pytest.raises(ValueError, match="num_frames=3 but the source holds 2"):
        FrameSource(_frames(2), num_frames=3)

    stream = FrameSource(iter(_frames(2)))
    assert stream.length is None and not stream.rewindable
    with pytest.raises(ValueError, match="pass num_frames"):
        stream.count()
    assert len(list(stream.open())) == 2
    with pytest.raises(RuntimeError, match="consumed already"):
        stream.open()
    with pytest.raises(ValueError, match="iterable of"):
        FrameSource(np.zeros((2, 4, 4, 3), np.uint8))


def test_read_ahead_is_bounded_ordered_and_reraises():
    produced = []

    def items():
        for i in range(50):
            produced.append(i)
            yield i

    reader = ReadAhead(items(), lambda x: x * 2, depth=2)
    first = reader.get()
    assert first == (0, 0, 0)
    threading.Event().wait(0.2)  # let the thread run ahead as far as it may
    assert len(produced) <= 1 + 2 + 2 and reader.held <= 3  # taken + queue + one being put (+ one read)
    assert [reader.get()[0] for _ in range(49)] == list(range(1, 50)) and reader.get() is None
    reader.close()

    def broken():
        yield 1
        raise ValueError("frame 1 (x.jpg) cannot be decoded")

    reader = ReadAhead(broken(), lambda x: x, start=7)
    assert reader.get() == (7, 1, 1)
    with pytest.raises(ValueError, match="x.jpg"):
        reader.get()
    assert reader.get() is None
    reader.close()
