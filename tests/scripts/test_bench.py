"""Smoke test of scripts/bench.py: a tiny AOT-T run with two policies writes the JSON report and the plot."""
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_writes_json_and_plot(tmp_path):
    bench = _load_bench()
    bench.main(["--model", "rmem_aott", "--lengths", "3", "6", "--size", "65x65", "--policies", "unbounded", "fifo",
                "--gap", "1", "--warmup", "1", "--device", "cpu", "--in-process", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["machine"]["device"] == "cpu" and report["machine"]["torch"]
    rows = {(r["policy"], r["length"]): r for r in report["results"]}
    assert set(rows) == {("unbounded", 3), ("unbounded", 6), ("fifo", 3), ("fifo", 6)}
    for row in rows.values():
        for key in ("ms_per_frame", "ms_per_frame_last50", "ms_per_frame_median", "fps", "peak_mb", "bank_mb"):
            assert row[key] > 0, (key, row)
    # gap 1: every frame enters the bank; unbounded keeps all 6, fifo at most reference + 8.
    assert rows[("unbounded", 6)]["kept_frames"] == 6
    assert rows[("unbounded", 6)]["bank_mb"] > rows[("unbounded", 3)]["bank_mb"]
    assert (tmp_path / "bench.png").stat().st_size > 0


def test_parse_size_rejects_bad_input():
    bench = _load_bench()
    assert bench.parse_size("65x33") == (65, 33) and bench.parse_size("65") == (65, 65)
    with pytest.raises(Exception, match="--size"):
        bench.parse_size("axb")


def test_bench_predictor_mode(tmp_path):
    bench = _load_bench()
    report = bench.main(["--api", "predictor", "--model", "rmem_aott", "--lengths", "4", "--size", "33x33",
                         "--policies", "fifo", "--gap", "1", "--max-recent", "2", "--warmup", "1", "--device", "cpu",
                         "--in-process", "--out", str(tmp_path)])
    (row,) = report["results"]
    assert report["api"] == "predictor" and row["api"] == "predictor" and row["frames_timed"] == 2
    assert row["kept_frames"] == 3 and row["peak_mb"] > 0 and row["ms_per_frame"] > 0
