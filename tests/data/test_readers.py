"""Evaluation and training readers on small generated layouts, including bad data."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from aot_plus.config import from_dict
from aot_plus.data import (DAVISEval, DataConfig, DatasetError, LongVideosEval, VOSTEval, YouTubeVOSEval,
                           build_eval_dataset)
from aot_plus.data.davis import davis_train_sequences
from aot_plus.data.io import read_image, read_label, read_list
from aot_plus.data.vost import vost_train_sequences
from aot_plus.data.youtubevos import youtubevos_train_sequences


def test_vost_eval_first_label_only_and_void_pseudo_object(layout, make_vost) -> None:
    first = layout.blob_label(32, 48, {2: (0, 0, 10, 10), 1: (12, 12, 20, 30), 255: (25, 0, 30, 10)})
    later = layout.blob_label(32, 48, {1: (0, 0, 5, 5), 4: (10, 10, 20, 20)})
    root = make_vost({"b_seq": [first, later, later], "a_seq": [later, later]}, val=["b_seq", "a_seq", "b_seq"])
    dataset = VOSTEval(root, "val")
    assert dataset.names == ["a_seq", "b_seq"]
    seq = dataset[1]
    assert seq.name == "b_seq" and len(seq) == 6
    assert seq.stems == ["00000", "00003", "00006", "00009", "00012", "00015"]
    assert list(seq.label_paths) == [0]
    assert seq.first_label_path == root / "Annotations" / "b_seq" / "00000.png"
    assert seq.size == (32, 48) and seq.output_size == (32, 48)
    assert seq.ids_at(0) == (0, 1, 2, 255) and seq.ids_at(5) == (0, 1, 2, 255)
    assert seq.num_objects(0) == 3 and seq.object_ids == (1, 2, 255)
    squeezed = seq.load_label(0)
    assert squeezed[0, 0] == 2 and squeezed[15, 15] == 1 and squeezed[27, 5] == 3 and squeezed[31, 47] == 0
    assert seq.original_ids(0)[[0, 1, 2, 3, 4]].tolist() == [0, 1, 2, 255, 0]
    image = seq.load_image(2)
    assert image.shape == (32, 48, 3) and image.dtype == np.float32
    oracle = VOSTEval(root, "val", frames_dir="JPEGImages", all_labels=True)[1]
    assert len(oracle) == 3 and sorted(oracle.label_paths) == [0, 1, 2]
    assert oracle.ids_at(2) == (0, 1, 2, 255, 4) and oracle.new_objects(1) == (4,)


def test_vost_train_sequences(layout, make_vost) -> None:
    label = layout.blob_label(32, 48, {1: (0, 0, 10, 10)})
    root = make_vost({"s1": [label] * 3, "s2": [label] * 2}, train=["s2", "s1", "s2"])
    seqs = vost_train_sequences(from_dict(DataConfig, {"vost": {"root": str(root)}}).vost)
    assert [s.name for s in seqs] == ["s2", "s1"]
    assert seqs[1].frames == ("00000", "00006", "00012") == seqs[1].labelled
    assert seqs[1].image_path("00006") == root / "JPEGImages" / "s1" / "00006.jpg"


def test_davis_layouts_and_output_height(davis_root) -> None:
    for flat in (False, True):
        root = davis_root(flat)
        dataset = DAVISEval(root, "val")
        assert dataset.names == ["car", "dog"]
        seq = dataset[1]
        assert len(seq) == 3 and list(seq.label_paths) == [0]
        assert seq.output_size == (480, 800) and seq.ids_at(0) == (0, 1, 2)
        single = DAVISEval(root, "val", single_object=True)[0]
        assert single.ids_at(0) == (0, 1) and set(np.unique(single.load_label(0))) == {0, 1}
        cfg = from_dict(DataConfig, {"davis": {"root": str(root)}}).davis
        assert [s.name for s in davis_train_sequences(cfg)] == ["dog", "car"]
    built = build_eval_dataset("davis2016", from_dict(DataConfig, {"davis": {"root": str(root)}}))
    assert isinstance(built, DAVISEval) and built.single_object


def test_youtubevos_late_objects(youtubevos_root: Path) -> None:
    dataset = YouTubeVOSEval(youtubevos_root, 2019, "val")
    assert dataset.names == ["vid_b", "vid_a"]
    seq = dataset[1]
    assert seq.stems == ["00000", "00005", "00010", "00015"]
    assert sorted(seq.label_paths) == [0, 2]
    assert seq.ids_at(0) == (0, 3) and seq.ids_at(1) == (0, 3) and seq.ids_at(2) == (0, 3, 5)
    assert seq.num_objects(1) == 1 and seq.num_objects(3) == 2 and seq.new_objects(2) == (2,)
    assert seq.new_objects(0) == (1,) and seq.new_objects(1) == ()
    late = seq.load_label(2)
    assert late[25, 30] == 2 and late[0, 0] == 0 and seq.original_ids(2)[2] == 5
    dense = YouTubeVOSEval(youtubevos_root, 2019, "valid", all_frames=True)[1]
    assert len(dense) == 16 and dense.stems[0] == "00000" and dense.stems[-1] == "00015"
    assert dense.sparse_frames == frozenset({0, 5, 10, 15}) and sorted(dense.label_paths) == [0, 10]
    cfg = from_dict(DataConfig, {"youtubevos": {"root": str(youtubevos_root)}}).youtubevos
    seqs = youtubevos_train_sequences(cfg)
    assert [s.name for s in seqs] == ["vid_t"] and len(seqs[0].frames) == 4


def test_long_videos(layout, tmp_path: Path) -> None:
    root = tmp_path / "long_videos"
    label = layout.blob_label(24, 40, {1: (0, 0, 10, 10), 2: (10, 10, 20, 20)})
    for i in range(4):
        layout.write_jpg(root / "JPEGImages" / "480p" / "blue" / f"{i:05d}.jpg", np.zeros((24, 40, 3), np.uint8))
    layout.write_png(root / "Annotations" / "480p" / "blue" / "00000.png", label)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("blue")
    seq = LongVideosEval(root, "val")[0]
    assert len(seq) == 4 and seq.ids_at(0) == (0, 1) and seq.output_size == (480, 800)


def test_bad_data_errors_name_the_file(layout, make_vost, tmp_path: Path) -> None:
    label = layout.blob_label(32, 48, {1: (0, 0, 10, 10)})
    root = make_vost({"s1": [label, label]})
    (root / "Annotations" / "s1" / "00000.png").unlink()
    with pytest.raises(DatasetError, match=r"first-frame annotation .*s1/00000.png"):
        VOSTEval(root, "val")[0]
    layout.write_png(root / "Annotations" / "s1" / "00000.png", np.zeros((20, 20), np.uint8))
    with pytest.raises(DatasetError, match=r"annotation .*00000.png is 20x20 but image .*00000.jpg is 48x32"):
        VOSTEval(root, "val")[0].load_label(0)
    corrupt = root / "JPEGImages_10fps" / "s1" / "00003.jpg"
    corrupt.write_bytes(corrupt.read_bytes()[:-300])
    with pytest.raises(DatasetError, match=r"00003.jpg cannot be decoded: truncated JPEG"):
        VOSTEval(root, "val")[0].load_image(1)
    (root / "JPEGImages_10fps" / "s1" / "00006.jpg").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match=r"00006.jpg cannot be decoded: corrupt"):
        VOSTEval(root, "val")[0].load_image(2)
    (root / "ImageSets" / "val.txt").write_text("\n  \n")
    with pytest.raises(DatasetError, match=r"sequence list .*val.txt is empty"):
        VOSTEval(root, "val")
    with pytest.raises(DatasetError, match=r"VOST dataset folder .*missing does not exist"):
        VOSTEval(tmp_path / "missing")
    rgb = tmp_path / "rgb.png"
    cv2.imwrite(str(rgb), np.zeros((4, 4, 3), np.uint8) + 7)
    with pytest.raises(DatasetError, match=r"rgb.png: expected a palette"):
        read_label(rgb)
    with pytest.raises(DatasetError, match=r"image .*nope.jpg does not exist"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(DatasetError, match="does not exist"):
        read_list(tmp_path / "nope.txt")
    with pytest.raises(DatasetError, match="unknown evaluation dataset"):
        build_eval_dataset("kinetics", DataConfig())
