"""Tests of reading user videos and masks and writing overlay videos."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aot_plus.inference.video_io import OverlayVideoWriter, VideoSource, overlay, read_first_mask
from aot_plus.inference.writer import save_palette_png


def test_video_file_roundtrip_and_odd_sizes(tmp_path):
    out = tmp_path / "v.mp4"
    writer = OverlayVideoWriter(out, fps=12)
    for i in range(4):
        writer.write(np.full((33, 47, 3), 60 * i, np.uint8))
    assert not out.exists()  # appears only when closed
    writer.close()
    source = VideoSource(out)
    frames = list(source)
    assert source.fps == pytest.approx(12)
    assert [stem for stem, _ in frames] == ["00000", "00001", "00002", "00003"]
    assert frames[0][1].shape == (34, 48, 3)  # padded to even sizes
    assert [round(float(f.mean()) / 60) for _, f in frames] == [0, 1, 2, 3]


def test_frame_folder_sorted_and_errors(tmp_path):
    for name in ["b.jpg", "a.png", "notes.txt"]:
        if name.endswith(".txt"):
            (tmp_path / name).write_text("x")
        else:
            Image.fromarray(np.zeros((5, 6, 3), np.uint8)).save(tmp_path / name)
    assert [stem for stem, _ in VideoSource(tmp_path)] == ["a", "b"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        VideoSource(tmp_path / "missing.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no .*jpg"):
        VideoSource(tmp_path / "empty")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="bad.mp4"):
        VideoSource(tmp_path / "bad.mp4")


def test_read_first_mask_palette_and_rgb_error(tmp_path):
    label = np.array([[0, 1], [2, 255]], np.uint8)
    save_palette_png(tmp_path / "m.png", label)
    np.testing.assert_array_equal(read_first_mask(tmp_path / "m.png"), label)
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="rgb.png.*not a palette PNG"):
        read_first_mask(tmp_path / "rgb.png")


def test_overlay_colours_only_objects():
    rgb = np.full((9, 9, 3), 100, np.uint8)
    label = np.zeros((9, 9), np.uint8)
    label[3:6, 3:6] = 1  # palette colour (128, 0, 0)
    out = overlay(rgb, label, alpha=0.5)
    assert out[0, 0].tolist() == [100, 100, 100]
    assert out[4, 4].tolist() == [114, 50, 50]
