"""LVOS J&F (``--metric lvos``) on tiny hand-computed cases: slots, absent objects, V, seen / unseen means."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from evaluation import DatasetError, EvaluationOptions, MissingPredictionError, evaluate, run
from evaluation.lvos import LvosObject, locate_lvos, read_lvos_meta

from .conftest import write_lvos

SHAPE = (8, 8)


def block(rows: slice, cols: slice, value: int = 1) -> np.ndarray:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[rows, cols] = value
    return labels


EMPTY = np.zeros(SHAPE, dtype=np.uint8)
OBJ = block(slice(2, 5), slice(2, 5))


def test_slots_follow_the_official_range_rule() -> None:
    # range(1, 21, 5) = 1, 6, 11, 16: position 0 is skipped, frame_nums - 2 = 3 slots, end never read.
    assert LvosObject("1", 1, 21, 5).slots("v", "m.json") == [(0, "00000006"), (1, "00000011"), (2, "00000016")]
    # Same frames with frame_nums = 4: position 3 = frame_nums - 1 is skipped too.
    assert LvosObject("1", 1, 21, 4).slots("v", "m.json") == [(0, "00000006"), (1, "00000011")]
    # A range shorter than frame_nums - 1 leaves slots unreached (they score 0).
    assert LvosObject("1", 1, 11, 5).slots("v", "m.json") == [(0, "00000006")]
    with pytest.raises(DatasetError, match="frame_nums 3"):
        LvosObject("1", 1, 21, 3).slots("v", "m.json")  # 4 frames in the range: the official code crashes
    with pytest.raises(DatasetError, match="frame_nums 1"):
        LvosObject("1", 1, 6, 1).slots("v", "m.json")


def test_absent_object_scores_one_when_the_prediction_is_empty(tmp_path: Path) -> None:
    split, results = tmp_path / "valid", tmp_path / "results"
    # Object 1: frames 1 (reference), 6, 11, 16 scored, 21 = end not read. Object 2 starts at 6: scored on 11 only.
    meta = {"vid": {"1": (1, 21, 5), "2": (6, 21, 3)}}
    both = OBJ.copy()
    both[6:8, 6:8] = 2
    annotations = {"vid": {1: OBJ, 6: OBJ, 11: block(slice(6, 8), slice(6, 8), 2), 16: EMPTY, 21: OBJ}}
    predictions = {"vid": {6: OBJ,                                           # exact: J = F = 1
                           11: EMPTY,                                        # object 1 absent, empty: 1 / 1
                           16: block(slice(0, 1), slice(0, 1))}}             # absent, one pixel: J = F = 0
    write_lvos(split, meta, annotations, predictions, results)
    report, reused = run(results, split, EvaluationOptions(subset="valid", metric="lvos"))
    assert not reused
    rows = {row[0]: row[1:] for row in report.per_sequence_table.rows}
    j, f, v = rows["vid_1"]
    assert j == 2 / 3
    assert f == 2 / 3
    # JF = [1, 1, 0]: mean 2/3, squared deviations 1/9, 1/9, 4/9 -> variance 2/9 -> round(., 4) = 0.2222.
    assert v == math.sqrt(0.2222)
    # Object 2 at frame 11: present in the annotation, predicted empty -> J = 0, F = 0 (precision 1, recall 0).
    assert rows["vid_2"] == (0.0, 0.0, 0.0)
    assert report.per_sequence_table.columns == ("Sequence", "J-Mean", "F-Mean", "V-Mean")
    text = (results / "per-sequence_results-valid.csv").read_text()
    assert text == "Sequence,J-Mean,F-Mean,V-Mean\nvid_1,0.667,0.667,0.471\nvid_2,0.000,0.000,0.000\n"


def test_other_ids_and_void_are_background(tmp_path: Path) -> None:
    split, results = tmp_path / "valid", tmp_path / "results"
    gt = block(slice(0, 4), slice(0, 4), 3)
    gt[0, :] = 255  # void is background for object 3: the object is rows 1..3 (12 pixels)
    pred = block(slice(1, 4), slice(0, 2), 3)  # 6 of the 12 pixels
    pred[7, 7] = 9  # an id of no object: ignored
    meta = {"v": {"3": (1, 11, 2 + 1)}}  # frames 1, 6: slot 0 = frame 6
    write_lvos(split, meta, {"v": {1: gt, 6: gt}}, {"v": {6: pred}}, results)
    report = evaluate(results, split, EvaluationOptions(subset="valid", metric="lvos"))
    assert report.objects[0].per_frame_j.tolist() == [0.5]
    assert report.per_sequence_table.rows[0][1] == 0.5


def test_seen_unseen_means(tmp_path: Path) -> None:
    split, results = tmp_path / "valid", tmp_path / "results"
    meta = {"a": {"1": (1, 16, 3)}, "b": {"1": (1, 16, 3), "2": (1, 16, 3)}}
    two = OBJ.copy()
    two[6:8, 6:8] = 2
    annotations = {"a": {1: OBJ, 6: OBJ}, "b": {1: two, 6: two}}
    predictions = {"a": {6: EMPTY},                     # a_1: J = F = 0
                   "b": {6: np.where(two == 2, 0, two)}}  # b_1 exact (1, 1), b_2 missed (0, 0)
    write_lvos(split, meta, annotations, predictions, results)
    (split / "unseen_videos.txt").write_text("a\n")
    report = evaluate(results, split, EvaluationOptions(subset="valid", metric="lvos"))
    m = report.metrics
    # seen = b (objects 1, 0 -> mean 0.5), unseen = a (0): J&F = ((0.5 + 0.5) + (0 + 0)) / 4.
    assert m["J-seen-Mean"] == 0.5 and m["J-unseen-Mean"] == 0.0 and m["F-seen-Mean"] == 0.5
    assert m["J&F-Mean"] == 0.25 and m["J-Mean"] == 0.25 and m["F-Mean"] == 0.25
    assert m["V-seen-Mean"] == 0.0 and m["V-Mean"] == 0.0  # one slot per object: no variation

    listed = tmp_path / "unseen.txt"
    listed.write_text("b\n")
    swapped = evaluate(results, split, EvaluationOptions(subset="valid", metric="lvos", unseen_list=str(listed)))
    assert swapped.metrics["J-seen-Mean"] == 0.0 and swapped.metrics["J-unseen-Mean"] == 0.5

    (split / "unseen_videos.txt").unlink()
    alone = evaluate(results, split, EvaluationOptions(subset="valid", metric="lvos"))
    # No unseen video: means over all objects (1, 0, 0), the unseen columns are NaN.
    assert alone.metrics["J-Mean"] == 1 / 3 and alone.metrics["J&F-Mean"] == 1 / 3
    assert math.isnan(alone.metrics["J-unseen-Mean"])
    assert alone.global_table.to_csv().splitlines()[1] == "0.333,0.333,0.333,,0.333,0.333,,0.000,0.000,"


def test_layouts_meta_names_and_errors(tmp_path: Path) -> None:
    root = tmp_path / "LVOS"
    results = tmp_path / "results"
    write_lvos(root / "valid", {"v": {"1": (1, 16, 3)}}, {"v": {1: OBJ, 6: OBJ}}, {"v": {6: OBJ}}, results,
               meta_name="meta.json")
    # The dataset root (holding valid/) or the split folder; 'val' finds valid/.
    assert locate_lvos(root, "val")[0] == str(root / "valid")
    assert locate_lvos(root / "valid", "valid")[1] == str(root / "valid" / "meta.json")
    assert evaluate(results, root, EvaluationOptions(subset="val", metric="lvos")).metrics["J-Mean"] == 1.0
    assert list(read_lvos_meta(root / "valid" / "meta.json")) == ["v"]

    (results / "v" / "00000006.png").unlink()
    with pytest.raises(MissingPredictionError, match="00000006.png"):
        evaluate(results, root, EvaluationOptions(subset="valid", metric="lvos"))
    with pytest.raises(DatasetError, match="no LVOS meta file"):
        evaluate(results, tmp_path, EvaluationOptions(subset="test", metric="lvos"))
    (root / "valid" / "meta.json").write_text('{"videos": {"v": {"objects": {"1": {"frame_range": {}}}}}}')
    with pytest.raises(DatasetError, match="object '1'.*'start'"):
        evaluate(results, root, EvaluationOptions(subset="valid", metric="lvos"))


def test_unreached_slots_score_zero_as_the_official_tool(tmp_path: Path, caplog) -> None:
    split, results = tmp_path / "valid", tmp_path / "results"
    write_lvos(split, {"v": {"1": (1, 11, 5)}}, {"v": {1: OBJ, 6: OBJ}}, {"v": {6: OBJ}}, results)
    report = evaluate(results, split, EvaluationOptions(subset="valid", metric="lvos"))
    # 3 slots, only frame 6 reaches one: J = [1, 0, 0].
    assert report.objects[0].per_frame_j.tolist() == [1.0, 0.0, 0.0]
    assert report.per_sequence_table.rows[0][1] == 1 / 3
    assert "fills 1 of its 3 scored slots" in caplog.text


def test_parallel_equals_serial_and_csvs_are_reused(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    split, results = tmp_path / "valid", tmp_path / "results"
    meta, annotations, predictions = {}, {}, {}
    for index in range(3):
        name = f"v{index}"
        meta[name] = {"1": (1, 41, 8), "2": (11, 41, 6)}
        annotations[name] = {n: rng.integers(0, 3, SHAPE).astype(np.uint8) for n in range(1, 41, 5)}
        predictions[name] = {n: rng.integers(0, 3, SHAPE).astype(np.uint8) for n in range(1, 41, 5)}
    write_lvos(split, meta, annotations, predictions, results)
    serial = evaluate(results, split, EvaluationOptions(subset="valid", metric="lvos", workers=1))
    parallel, _ = run(results, split, EvaluationOptions(subset="valid", metric="lvos", workers=2))
    assert serial.global_table == parallel.global_table
    assert serial.per_sequence_table == parallel.per_sequence_table
    reused, was_reused = run(results, split, EvaluationOptions(subset="valid", metric="lvos"))
    assert was_reused and reused.global_table.to_csv() == parallel.global_table.to_csv()
