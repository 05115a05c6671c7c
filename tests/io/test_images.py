"""Frame listing, image decoding and first-mask checks shared by predict and the dataset readers."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aot_plus.io.images import (InputError, frame_stem, list_frames, natural_key, read_first_mask, read_label,
                                read_rgb)


def _jpeg(path, value=128, size=(12, 10)):
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path, quality=90)


def _palette(path, ids):
    image = Image.fromarray(np.asarray(ids, np.uint8), mode="P")
    image.putpalette([v for i in range(256) for v in (i, 0, 255 - i)])
    image.save(path)


def test_natural_order_and_dotted_names(tmp_path):
    for name in ["10.jpg", "2.jpg", "1.jpg", "a.b.jpg", "a.c.jpg", "notes.txt"]:
        _jpeg(tmp_path / name) if name.endswith(".jpg") else (tmp_path / name).write_text("x")
    files = list_frames(tmp_path)
    assert [f.name for f in files] == ["1.jpg", "2.jpg", "10.jpg", "a.b.jpg", "a.c.jpg"]
    assert [frame_stem(f.name) for f in files] == ["1", "2", "10", "a.b", "a.c"]
    padded = [f"{i:05d}.jpg" for i in range(12)]
    assert sorted(padded, key=natural_key) == sorted(padded)  # zero-padded names keep the text order


def test_duplicate_stem_is_an_error(tmp_path):
    _jpeg(tmp_path / "a.jpg")
    _jpeg(tmp_path / "a.png")
    with pytest.raises(InputError, match=r"a.jpg and a.png have the same name 'a'"):
        list_frames(tmp_path)


def test_truncated_and_corrupt_images_name_file_and_index(tmp_path):
    _jpeg(tmp_path / "ok.jpg", size=(64, 48))
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"frame 3 \(.*cut.jpg\) cannot be decoded: truncated JPEG"):
        read_rgb(tmp_path / "cut.jpg", 3)
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "ok.png")
    png = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(png[:-20])
    with pytest.raises(InputError, match=r"cut.png cannot be decoded: truncated PNG"):
        read_rgb(tmp_path / "cut.png")
    (tmp_path / "junk.jpg").write_bytes(b"hello")
    with pytest.raises(InputError, match=r"frame 0 .*junk.jpg.* corrupt"):
        read_rgb(tmp_path / "junk.jpg", 0)
    assert read_rgb(tmp_path / "ok.jpg").shape == (48, 64, 3)


def test_first_mask_rules(tmp_path):
    ids = np.zeros((10, 12), np.uint8)
    ids[2:5, 3:6] = 2
    _palette(tmp_path / "m.png", ids)
    np.testing.assert_array_equal(read_first_mask(tmp_path / "m.png", (10, 12), tmp_path / "f.jpg"), ids)
    # wrong size: both files named, user-visible sizes
    with pytest.raises(InputError, match=r"mask .*m.png is 12x10 but frame 0 \(.*f.jpg\) is 20x16"):
        read_first_mask(tmp_path / "m.png", (16, 20), tmp_path / "f.jpg")
    # a JPEG (or any non-palette image) is refused unless read as one object
    grey = np.zeros((10, 12, 3), np.uint8)
    grey[2:6, 2:6] = 255
    Image.fromarray(grey).save(tmp_path / "m.jpg", quality=75)
    with pytest.raises(InputError, match=r"not a palette PNG.*--binary-mask"):
        read_first_mask(tmp_path / "m.jpg")
    binary = read_first_mask(tmp_path / "m.jpg", binary=True)
    assert set(np.unique(binary)) == {0, 1} and binary[3, 3] == 1 and binary.sum() == 16
    # no object at all
    _palette(tmp_path / "empty.png", np.zeros((10, 12)))
    with pytest.raises(InputError, match="holds no object"):
        read_first_mask(tmp_path / "empty.png")


def test_read_label_refuses_rgb(tmp_path):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(InputError, match="mode 'RGB'"):
        read_label(tmp_path / "rgb.png")
