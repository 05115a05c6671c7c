"""End-to-end tests of the evaluator: the official fixture CSVs, reuse, DAVIS J&F, streaming."""
from __future__ import annotations

import math
import weakref

import numpy as np
import pytest

import evaluation.sequence as sequence_module
from evaluation import EvaluationOptions, evaluate, run
from evaluation.report import csv_paths

CSV_NAMES = ("global_results-val.csv", "per-sequence_results-val.csv")


@pytest.mark.parametrize(("case", "workers"), [("", 1), ("", 2), ("cases/decay_wrap", 2)])
def test_fixture_csvs_identical_to_official(fixture_copy, case, workers):
    dataset, results, expected = fixture_copy(case)
    run(results, dataset, EvaluationOptions(workers=workers), recompute=True)
    for name in CSV_NAMES:
        assert (results / name).read_bytes() == (expected / name).read_bytes(), name


def test_fixture_report_values(fixture_copy):
    dataset, results, _ = fixture_copy("cases/decay_wrap")
    report = evaluate(results, dataset)
    assert math.isnan(report.metrics["J-Decay"])
    assert report.metrics["J_last-Decay"] == pytest.approx(0.131, abs=5e-4)
    soup = report.objects[0]
    assert soup.key == "901_long_stir_soup_1" and len(soup.frames) == 257 and math.isnan(soup.j.decay)
    assert soup.frames[0] == "00006" and len(soup.per_frame_j) == 257


def test_existing_csvs_are_reused_unless_recompute(fixture_copy):
    dataset, results, expected = fixture_copy("")
    global_csv, per_sequence_csv = csv_paths(results, "val")
    with open(global_csv, "w") as handle:
        handle.write("J-Mean,J-Recall,J-Decay,J_last-Mean,J_last-Recall,J_last-Decay\n0.5,0.5,,0.5,0.5,0.5\n")
    with open(per_sequence_csv, "w") as handle:
        handle.write("Sequence,J-Mean,J_last-Mean\nx_1,0.5,0.5\n")
    report, reused = run(results, dataset)
    assert reused and report.metrics["J-Mean"] == 0.5 and math.isnan(report.metrics["J-Decay"])
    assert report.per_sequence_table.rows == (("x_1", 0.5, 0.5),)
    assert "0.5,0.5,," in open(global_csv).read()  # not rewritten
    _, reused = run(results, dataset, recompute=True)
    assert not reused
    assert (results / CSV_NAMES[0]).read_bytes() == (expected / CSV_NAMES[0]).read_bytes()


def test_csvs_of_the_other_metric_are_not_reused(fixture_copy):
    dataset, results, _ = fixture_copy("")
    run(results, dataset, EvaluationOptions(metric="j"))
    report, reused = run(results, dataset, EvaluationOptions(metric="jf"))
    assert not reused and report.global_table.columns[0] == "J&F-Mean"
    assert open(csv_paths(results, "val")[0]).readline().startswith("J&F-Mean,")


def test_jf_on_fixture_keeps_j_values(fixture_copy):
    dataset, results, expected = fixture_copy("")
    report = evaluate(results, dataset, EvaluationOptions(metric="jf"))
    j_report = evaluate(results, dataset, EvaluationOptions(metric="j"))
    assert report.metrics["J-Mean"] == j_report.metrics["J-Mean"]
    assert report.metrics["J&F-Mean"] == pytest.approx((report.metrics["J-Mean"] + report.metrics["F-Mean"]) / 2)
    assert 0 < report.metrics["F-Mean"] < 1


def _square(size: int, top: int, left: int, side: int, value: int, shape=(24, 32)) -> np.ndarray:
    labels = np.zeros(shape, dtype=np.uint8)
    labels[top : top + side, left : left + side] = value
    return labels


@pytest.mark.parametrize("layout", ["davis", "vost"])
def test_davis_jf_hand_values(make_dataset, layout):
    # Object 1 is predicted exactly (J = F = 1); object 2 is never predicted (J = F = 0 where it exists).
    gt = [np.maximum(_square(0, 2, 2, 6, 1), _square(0, 12, 16, 5, 2)) for _ in range(6)]
    pred = [_square(0, 2, 2, 6, 1) for _ in range(6)]
    dataset, results = make_dataset({"bike": gt}, {"bike": pred}, layout=layout)
    report, _ = run(results, dataset, EvaluationOptions(metric="jf", layout="auto"), recompute=True)
    assert report.global_table.columns == ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
    assert report.per_sequence_table.rows == (("bike_1", 1.0, 1.0), ("bike_2", 0.0, 0.0))
    assert report.metrics["J&F-Mean"] == 0.5 and report.metrics["F-Recall"] == 0.5
    row = (results / "global_results-val.csv").read_text().splitlines()[1]
    assert row == "0.500,0.500,0.500,0.000,0.500,0.500,0.000"


def test_boundary_tolerance_in_jf(make_dataset):
    # A one-pixel shift on a 480x854 frame is within the 8-pixel tolerance: F = 1 while J < 1.
    shape = (480, 854)
    gt = [_square(0, 100, 100, 200, 1, shape=shape) for _ in range(3)]
    pred = [_square(0, 101, 101, 200, 1, shape=shape) for _ in range(3)]
    dataset, results = make_dataset({"s": gt}, {"s": pred}, layout="davis")
    report = evaluate(results, dataset, EvaluationOptions(metric="jf"))
    assert report.objects[0].f.mean == 1.0
    assert report.objects[0].j.mean == pytest.approx(199 * 199 / (2 * 200 * 200 - 199 * 199))


def test_object_count_from_first_frame_and_zero_objects(make_dataset):
    first = _square(0, 2, 2, 4, 3)  # K = 3 although ids 1 and 2 are absent
    later = np.maximum(_square(0, 2, 2, 4, 3), _square(0, 10, 10, 4, 5))  # id 5 > K: never scored
    empty = np.zeros((24, 32), dtype=np.uint8)
    dataset, results = make_dataset(
        {"k3": [first, later, later, later], "none": [empty] * 4},
        {"k3": [first, later, later, later], "none": [empty] * 4},
    )
    report = evaluate(results, dataset)
    assert [row[0] for row in report.per_sequence_table.rows] == ["k3_1", "k3_2", "k3_3"]
    assert all(row[1] == 1.0 for row in report.per_sequence_table.rows)


def test_predictions_are_streamed(make_dataset, monkeypatch):
    """At most a few decoded frames are alive at any time, however long the sequence."""
    labels = [_square(0, 2, 2, 6, 1) for _ in range(40)]
    dataset, results = make_dataset({"long": labels}, {"long": labels})
    alive: list[weakref.ref] = []
    peak = [0]
    original = sequence_module.decode_indices

    def tracking(image, path):
        array = original(image, path)
        alive.append(weakref.ref(array))
        peak[0] = max(peak[0], sum(ref() is not None for ref in alive))
        return array

    monkeypatch.setattr(sequence_module, "decode_indices", tracking)
    evaluate(results, dataset)
    assert len(alive) == 1 + 2 * 38  # the first annotation, then 38 scored pairs; the last frame is never read
    assert peak[0] <= 4
