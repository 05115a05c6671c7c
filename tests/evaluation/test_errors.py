"""Each kind of bad input gives one EvaluationError naming the file, and no CSV is written."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from evaluation import (
    DatasetError,
    EvaluationError,
    EvaluationOptions,
    MissingPredictionError,
    MissingSequenceError,
    NotPaletteError,
    PredictionSizeError,
    run,
)
from evaluation.report import csv_paths

SHAPE = (6, 8)


def frames(count: int, value: int = 1) -> list[np.ndarray]:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[1:4, 2:6] = value
    return [labels.copy() for _ in range(count)]


@pytest.fixture
def good(make_dataset):
    """A valid two-sequence dataset (5 annotated frames each) with perfect predictions."""
    return make_dataset({"a": frames(5), "b": frames(5, value=2)}, {"a": frames(5), "b": frames(5, value=2)})


def run_and_expect(error_type, results, dataset, *fragments, workers=1):
    with pytest.raises(error_type) as info:
        run(results, dataset, EvaluationOptions(workers=workers), recompute=True)
    assert isinstance(info.value, EvaluationError)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert not any(p.endswith(".csv") for p in map(str, results.iterdir()))
    return info.value


def test_good_dataset_scores_one(good):
    dataset, results = good
    report, reused = run(results, dataset, EvaluationOptions(), recompute=True)
    assert not reused
    assert report.metrics["J-Mean"] == 1.0 and report.metrics["J_last-Mean"] == 1.0
    assert [row[0] for row in report.per_sequence_table.rows] == ["a_1", "b_1", "b_2"]


@pytest.mark.parametrize("workers", [1, 2])
def test_missing_prediction(good, workers):
    dataset, results = good
    (results / "b" / "00002.png").unlink()
    error = run_and_expect(MissingPredictionError, results, dataset, str(results / "b" / "00002.png"), workers=workers)
    assert "'00002'" in str(error) and "'b'" in str(error)


def test_missing_prediction_folder(good):
    dataset, results = good
    for png in (results / "a").iterdir():
        png.unlink()
    (results / "a").rmdir()
    run_and_expect(MissingPredictionError, results, dataset, str(results / "a" / "00001.png"), "does not exist")


def test_first_and_last_prediction_are_not_needed(good):
    dataset, results = good
    (results / "a" / "00000.png").unlink()
    (results / "a" / "00004.png").unlink()
    report, _ = run(results, dataset, EvaluationOptions(), recompute=True)
    assert report.metrics["J-Mean"] == 1.0


@pytest.mark.parametrize("workers", [1, 2])
def test_prediction_of_wrong_size(good, write_png_fn, workers):
    dataset, results = good
    write_png_fn(results / "a" / "00003.png", np.zeros((SHAPE[0] + 1, SHAPE[1]), dtype=np.uint8))
    error = run_and_expect(PredictionSizeError, results, dataset, str(results / "a" / "00003.png"), workers=workers)
    assert "8x7" in str(error) and "8x6" in str(error)


def test_sequence_listed_but_absent(good):
    dataset, results = good
    (dataset / "ImageSets" / "val.txt").write_text("a\nghost\nb\n")
    run_and_expect(MissingSequenceError, results, dataset, "'ghost'", str(dataset / "Annotations" / "ghost"))


def test_sequence_folder_without_png(good):
    dataset, results = good
    (dataset / "Annotations" / "empty").mkdir()
    (dataset / "ImageSets" / "val.txt").write_text("empty\n")
    run_and_expect(MissingSequenceError, results, dataset, "has no .png annotation")


@pytest.mark.parametrize(("mode", "kind"), [("L", "prediction"), ("RGB", "prediction"), ("RGB", "annotation")])
def test_non_palette_png(good, write_png_fn, mode, kind):
    dataset, results = good
    target = (results / "b" / "00001.png") if kind == "prediction" else (dataset / "Annotations" / "b" / "00002.png")
    write_png_fn(target, frames(1, value=2)[0], mode=mode)
    run_and_expect(NotPaletteError, results, dataset, str(target), f"mode '{mode}'", "palette")


def test_corrupt_png(good):
    dataset, results = good
    target = results / "a" / "00002.png"
    target.write_bytes(b"not a png at all")
    run_and_expect(NotPaletteError, results, dataset, str(target), "not a readable image")


def test_truncated_png(good):
    dataset, results = good
    target = results / "a" / "00002.png"
    target.write_bytes(target.read_bytes()[:60])
    run_and_expect(NotPaletteError, results, dataset, str(target))


def test_annotation_size_change(good, write_png_fn):
    dataset, results = good
    target = dataset / "Annotations" / "a" / "00002.png"
    write_png_fn(target, np.zeros((3, 3), dtype=np.uint8))
    run_and_expect(DatasetError, results, dataset, str(target), "3x3")


def test_too_few_annotated_frames(make_dataset):
    dataset, results = make_dataset({"a": frames(2)}, {"a": frames(2)})
    run_and_expect(DatasetError, results, dataset, "'a' has 2 annotated frame(s)", "at least 3")


def test_blank_line_and_missing_list(good):
    dataset, results = good
    list_file = dataset / "ImageSets" / "val.txt"
    list_file.write_text("a\n\nb\n")
    run_and_expect(DatasetError, results, dataset, f"{list_file} line 2 is blank")
    with pytest.raises(DatasetError, match="test.txt not found"):
        run(results, dataset, EvaluationOptions(subset="test"), recompute=True)


def test_existing_csvs_untouched_on_error(good):
    dataset, results = good
    global_csv, per_sequence_csv = csv_paths(results, "val")
    for path in (global_csv, per_sequence_csv):
        with open(path, "w") as handle:
            handle.write("old\n")
    (results / "a" / "00001.png").unlink()
    with pytest.raises(MissingPredictionError):
        run(results, dataset, EvaluationOptions(), recompute=True)
    assert open(global_csv).read() == "old\n" and open(per_sequence_csv).read() == "old\n"
    assert sorted(p.name for p in results.iterdir() if p.is_file()) == sorted(
        ["global_results-val.csv", "per-sequence_results-val.csv"]
    )


@pytest.mark.parametrize(
    "error", [MissingPredictionError("m"), PredictionSizeError("s"), NotPaletteError("p"), MissingSequenceError("q")]
)
def test_errors_pickle_for_worker_processes(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
