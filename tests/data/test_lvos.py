"""LVOS reader on small generated v1 / v2 layouts: late objects, objects that leave and return, bad meta."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aot_plus.config import from_dict
from aot_plus.data import DataConfig, DatasetError, LVOSEval, build_eval_dataset

H, W = 24, 32


def write_lvos(layout, split: Path, videos: dict, meta_name: str = "valid_meta.json") -> None:
    """``videos``: {name: ({frame number: label}, {object key: (start, end, frame_nums)})}."""
    meta = {"videos": {}}
    for name, (labels, objects) in videos.items():
        for number, label in labels.items():
            layout.write_jpg(split / "JPEGImages" / name / f"{number:08d}.jpg", layout.frame_image(label))
            layout.write_png(split / "Annotations" / name / f"{number:08d}.png", label)
        meta["videos"][name] = {"objects": {key: {"frame_range": {"start": f"{s:08d}", "end": e, "frame_nums": n}}
                                            for key, (s, e, n) in objects.items()}}
    (split / meta_name).write_text(json.dumps(meta))


def test_late_object_gets_only_its_own_mask(layout, tmp_path: Path) -> None:
    one = layout.blob_label(H, W, {1: (0, 0, 8, 8)})
    both = layout.blob_label(H, W, {1: (0, 0, 8, 8), 3: (10, 10, 20, 20)})
    gone = layout.blob_label(H, W, {3: (10, 10, 20, 20)})  # object 1 left the view: it returns at frame 26
    labels = {1: one, 6: one, 11: both, 16: gone, 21: gone, 26: both}
    write_lvos(layout, tmp_path / "valid", {"zz": (labels, {"1": (1, 26, 6), "3": (11, 26, 4)}),
                                            "aa": ({6: one, 11: one}, {"1": (6, 11, 2)})})
    dataset = LVOSEval(tmp_path, "val")  # the root holding valid/ and 'val' both work
    assert dataset.names == ["aa", "zz"]
    seq = dataset.sequence("zz")
    assert seq.stems == ["00000001", "00000006", "00000011", "00000016", "00000021", "00000026"]
    assert sorted(seq.label_paths) == [0, 2] and seq.output_size == (H, W)
    # At frame 11 the annotation also holds object 1; the model is given object 3 only.
    label = seq.raw_label(2)
    assert set(np.unique(label)) == {0, 3} and (label[both == 3] == 3).all()
    assert seq.ids_at(0) == (0, 1) and seq.ids_at(2) == (0, 1, 3) and seq.new_objects(2) == (2,)
    assert seq.load_label(2)[15, 15] == 2 and seq.load_label(2)[0, 0] == 0
    # A video whose only object starts on its second frame begins there.
    late = dataset.sequence("aa")
    assert late.stems == ["00000006", "00000011"] and list(late.label_paths) == [0]


def test_config_and_errors(layout, tmp_path: Path) -> None:
    one = layout.blob_label(H, W, {1: (0, 0, 8, 8)})
    split = tmp_path / "LVOS_v2" / "valid"
    write_lvos(layout, split, {"v": ({1: one, 6: one}, {"1": (1, 6, 2), "2": (11, 16, 2)})}, meta_name="meta.json")
    cfg = from_dict(DataConfig, {"lvos": {"root": str(split)}})
    dataset = build_eval_dataset("lvos", cfg, "valid")
    with pytest.raises(DatasetError, match=r"object '2' on frame 00000011 but .*v/00000011.jpg does not exist"):
        dataset.sequence("v")
    with pytest.raises(DatasetError, match="no LVOS meta file"):
        LVOSEval(tmp_path, "test")
    (split / "meta.json").write_text("{")
    with pytest.raises(DatasetError, match="not readable JSON"):
        LVOSEval(split, "valid")
