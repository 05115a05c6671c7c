"""scripts/bench_eval.py's shared pieces (also used by bench_eval_lvos.py): the output folder it may empty, and
the summary it prints."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_eval():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location("bench_eval", REPO / "scripts" / "bench_eval.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(REPO / "scripts"))


def test_refuses_a_folder_holding_other_files(bench_eval, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    with pytest.raises(SystemExit, match="did not write"):
        bench_eval.replace_bench_folder(out)
    assert (out / "notes.txt").read_text() == "keep"


def test_empties_its_own_folder_and_marks_a_new_one(bench_eval, tmp_path):
    out = tmp_path / "bench"
    bench_eval.replace_bench_folder(out)
    assert (out / bench_eval.BENCH_MARK).exists()
    (out / "dataset.png").write_bytes(b"x")
    bench_eval.replace_bench_folder(out)
    assert sorted(p.name for p in out.iterdir()) == [bench_eval.BENCH_MARK]


def test_report_flags_different_csvs_and_the_speed_up(bench_eval, tmp_path, capsys):
    runs = {"ours_w1": {"csvs": {"a.csv": "1"}, "seconds": 2.0}, "official": {"csvs": {"a.csv": "1"}, "seconds": 6.0}}
    assert bench_eval.report({"size": "4x4"}, runs, tmp_path / "s.json") == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["csvs_identical"] is True and summary["speedup_vs_official"] == {"ours_w1": 3.0}
    assert summary["size"] == "4x4" and json.loads(capsys.readouterr().out) == summary
    runs["official"]["csvs"] = {"a.csv": "2"}
    assert bench_eval.report({}, runs, None) == 1


def test_a_user_file_named_stamp_json_does_not_make_a_folder_its_own(bench_eval, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "stamp.json").write_text('{"experiment": "mine"}')
    (out / "data.csv").write_text("keep")
    with pytest.raises(SystemExit, match="did not write"):
        bench_eval.replace_bench_folder(out)
    assert (out / "data.csv").read_text() == "keep"
    (out / "stamp.json").write_text('{"sequences": 2, "size": [64, 48], "frames": 4}')
    bench_eval.replace_bench_folder(out)  # the stamp an earlier version of the benchmark wrote
    assert not (out / "data.csv").exists()
