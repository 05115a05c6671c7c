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


@pytest.mark.parametrize("how", ["--in-process", "--interleave"])
def test_bench_modes_and_storages(tmp_path, how):
    bench = _load_bench()
    args = bench.build_parser().parse_args(["--policies", "unbounded", "fifo", "--modes", "fp32", "bf16+compile",
                                            "--storages", "growing", "static", "--lengths", "4"])
    assert bench.planned_runs(args) == [("fp32", "growing", "unbounded", 4), ("fp32", "growing", "fifo", 4),
                                        ("fp32", "static", "fifo", 4), ("bf16+compile", "static", "fifo", 4)]
    bench.main(["--model", "rmem_aott", "--lengths", "4", "--size", "65x65", "--policies", "fifo", "--modes", "fp32",
                "bf16", "--storages", "growing", "static", "--objects", "2", "--gap", "1", "--max-recent", "2",
                "--warmup", "1", "--device", "cpu", how, "--out", str(tmp_path)])
    report = json.loads((tmp_path / "bench.json").read_text())
    rows = {(r["mode"], r["storage"]): r for r in report["results"]}
    assert all((r.get("peak_mb") is None) == (how == "--interleave") for r in rows.values())
    assert set(rows) == {("fp32", "growing"), ("fp32", "static"), ("bf16", "growing"), ("bf16", "static")}
    assert all(r["kept_frames"] == 3 and r["first_frames_s"] > 0 for r in rows.values())
    # The static bank allocates all 1 + 2 slots plus the one awaiting eviction; bf16 halves the bytes.
    assert rows[("fp32", "static")]["bank_mb"] == pytest.approx(4 / 3 * rows[("fp32", "growing")]["bank_mb"])
    assert rows[("bf16", "static")]["bank_mb"] == pytest.approx(rows[("fp32", "static")]["bank_mb"] / 2)


def test_bench_predictor_mode(tmp_path):
    bench = _load_bench()
    report = bench.main(["--api", "predictor", "--model", "rmem_aott", "--lengths", "4", "--size", "33x33",
                         "--policies", "fifo", "--gap", "1", "--max-recent", "2", "--warmup", "1", "--device", "cpu",
                         "--in-process", "--out", str(tmp_path)])
    (row,) = report["results"]
    assert report["api"] == "predictor" and row["api"] == "predictor" and row["frames_timed"] == 2
    assert row["kept_frames"] == 3 and row["peak_mb"] > 0 and row["ms_per_frame"] > 0
