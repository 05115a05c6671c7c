"""The ``python -m evaluation`` command line, run as a subprocess."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evaluation", *args], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120
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


def _busy_dataset(make_dataset):
    """Enough sequences that scoring outlasts the workers' start-up: 12 videos of 30 random 240 x 320 frames."""
    rng = np.random.default_rng(0)
    videos = {f"video{i:02d}": [rng.integers(0, 3, size=(240, 320), dtype=np.uint8) for _ in range(30)]
              for i in range(12)}
    return make_dataset(videos, videos)


@pytest.mark.parametrize("signum, whole_group", [(signal.SIGINT, True), (signal.SIGTERM, False)],
                         ids=["ctrl-c-to-the-process-group", "sigterm-to-the-main-process"])
def test_cli_interrupted_while_scoring_ends_with_one_line_and_writes_nothing(make_dataset, signum, whole_group):
    dataset, results = _busy_dataset(make_dataset)
    process = subprocess.Popen(
        [sys.executable, "-m", "evaluation", "--results_path", str(results), "--dataset_path", str(dataset),
         "--workers", "2"], cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    seen = ""
    while "Evaluating" not in seen:  # the progress bar appears when the workers are started
        char = process.stderr.read(1)
        assert char, f"the evaluation ended before scoring: {seen}"
        seen += char
    if whole_group:  # what a terminal's Ctrl-C does: every process of the group gets SIGINT
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    err = seen + err
    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err and "Error" not in err, err
    assert err.rstrip().splitlines()[-1].endswith(
        f"interrupted by {signal.Signals(signum).name}; the CSVs are written only by a complete run: "
        "rerun the same command"), err
    assert out == ""
    assert sorted(p.name for p in results.iterdir() if not p.is_dir()) == []


def test_cli_completes_the_busy_dataset(make_dataset):
    """The same dataset, uninterrupted, is scored and written: the interrupt tests above stop real work."""
    dataset, results = _busy_dataset(make_dataset)
    done = cli("--results_path", str(results), "--dataset_path", str(dataset), "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert len((results / "per-sequence_results-val.csv").read_text().splitlines()) > 12
