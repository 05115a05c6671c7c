"""Tests of the palette PNG writer and the atomic sequence folders."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aot_plus.inference.writer import PALETTE, ResultsLayout, SequenceWriter, prediction_palette, save_palette_png


def test_palette_matches_the_reference_table():
    pal = np.asarray(prediction_palette()).reshape(256, 3)
    assert pal[0].tolist() == [0, 0, 0]
    assert pal[1].tolist() == [128, 0, 0]
    assert pal[9].tolist() == [191, 0, 0]  # 191 where DAVIS has 192
    assert pal[21].tolist() == [128, 64, 128]
    assert pal[22].tolist() == [22, 22, 22]
    assert pal[255].tolist() == [255, 255, 255]


def test_save_palette_png_keeps_indices_and_palette(tmp_path):
    label = np.zeros((5, 7), np.uint8)
    label[1:3, 2:5] = 3
    label[4, 6] = 255
    save_palette_png(tmp_path / "a.png", label)
    with Image.open(tmp_path / "a.png") as img:
        assert img.mode == "P"
        assert img.getpalette()[:768] == list(PALETTE)
        np.testing.assert_array_equal(np.array(img), label)


def test_save_palette_png_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="2-D"):
        save_palette_png(tmp_path / "b.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="0..255"):
        save_palette_png(tmp_path / "c.png", np.full((2, 2), 300, np.int64))


@pytest.mark.parametrize("threads", [0, 2])
def test_sequence_folder_appears_only_on_commit(tmp_path, threads):
    layout = ResultsLayout(tmp_path)
    src = tmp_path / "src.png"
    save_palette_png(src, np.ones((4, 4), np.uint8))
    with SequenceWriter(layout, "seq", threads=threads) as writer:
        writer.copy("00000", src)
        for i in range(1, 4):
            writer.write(f"{i:05d}", np.full((4, 4), i, np.uint8))
        assert not layout.is_finished("seq")
        assert layout.partial_dir("seq").is_dir()
    assert layout.is_finished("seq")
    assert sorted(p.name for p in layout.sequence_dir("seq").iterdir()) == [f"{i:05d}.png" for i in range(4)]
    assert not layout.partial_dir("seq").exists()
    layout.remove_partial_root()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq", "src.png"]


def test_error_inside_the_block_leaves_no_folder(tmp_path):
    layout = ResultsLayout(tmp_path)
    with pytest.raises(RuntimeError):
        with SequenceWriter(layout, "seq") as writer:
            writer.write("00001", np.zeros((3, 3), np.uint8))
            raise RuntimeError("boom")
    assert not layout.is_finished("seq")
    assert not layout.partial_dir("seq").exists()


def test_stale_partial_folder_is_replaced_and_old_result_overwritten(tmp_path):
    layout = ResultsLayout(tmp_path)
    stale = layout.partial_dir("seq")
    stale.mkdir(parents=True)
    (stale / "junk.png").write_bytes(b"x")
    old = layout.sequence_dir("seq")
    old.mkdir()
    (old / "old.png").write_bytes(b"y")
    with SequenceWriter(layout, "seq", threads=0) as writer:
        writer.write("00001", np.zeros((3, 3), np.uint8))
    assert sorted(p.name for p in old.iterdir()) == ["00001.png"]
    assert not layout.partial_dir("seq").exists()
