"""The ``python -m evaluation`` command line, run as a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "evaluation", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_writes_official_csvs_and_prints_tables(fixture_copy):
    dataset, results, expected = fixture_copy("")
    done = cli("--results_path", str(results), "--dataset_path", str(dataset), "--workers", "2")
    assert done.returncode == 0, done.stderr
    for name in ("global_results-val.csv", "per-sequence_results-val.csv"):
        assert (results / name).read_bytes() == (expected / name).read_bytes()
    assert "Global results for val" in done.stdout
    assert " 0.629    0.755   0.187       0.546         0.646       -0.006" in done.stdout
    assert "103_tear_bag_3  0.693       0.606" in done.stdout
    assert "Global results saved in" in done.stderr

    again = cli("--results_path", str(results), "--dataset_path", str(dataset))
    assert again.returncode == 0 and "Using precomputed results" in again.stderr
    assert again.stdout == done.stdout


def test_cli_bad_input_is_one_line_and_exit_2(fixture_copy):
    dataset, results, _ = fixture_copy("")
    missing = results / "117_open_egg" / "00030.png"
    missing.unlink()
    done = cli("--results_path", str(results), "--dataset_path", str(dataset), "--re", "--workers", "1")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and str(missing) in lines[0]
    assert "Traceback" not in done.stderr
    assert not (results / "global_results-val.csv").exists()


def test_cli_usage_errors():
    assert cli("--dataset_path", "x").returncode == 2
    done = cli("--results_path", "/nonexistent/r", "--dataset_path", "/nonexistent/d")
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("error: ")


def test_package_imports_neither_torch_nor_aot_plus():
    code = (
        "import sys, evaluation, evaluation.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'aot_plus')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_cli_lvos_metric_and_unseen_list(tmp_path):
    import numpy as np

    from .conftest import write_lvos

    label = np.zeros((6, 6), np.uint8)
    label[1:4, 1:4] = 1
    split, results = tmp_path / "LVOS" / "valid", tmp_path / "results"
    write_lvos(split, {"vid": {"1": (1, 16, 3)}}, {"vid": {1: label, 6: label}}, {"vid": {6: label}}, results)
    unseen = tmp_path / "unseen.txt"
    unseen.write_text("vid\n")
    done = cli("--results_path", str(results), "--dataset_path", str(tmp_path / "LVOS"), "--set", "valid",
               "--metric", "lvos", "--unseen_list", str(unseen), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert (results / "global_results-valid.csv").read_text().splitlines()[1] == ",,,1.000,,,1.000,,,0.000"
    assert "vid_1" in done.stdout and "J-unseen-Mean" in done.stdout
    misplaced = cli("--results_path", str(results), "--dataset_path", str(split), "--unseen_list", str(unseen))
    assert misplaced.returncode == 2 and "--unseen_list applies to --metric lvos only" in misplaced.stderr
    missing = cli("--results_path", str(results), "--dataset_path", str(split), "--set", "valid", "--metric", "lvos",
                  "--unseen_list", str(tmp_path / "nope.txt"), "--re")
    assert missing.returncode == 2 and missing.stderr.strip().splitlines()[-1].startswith("error: unseen-video list")
