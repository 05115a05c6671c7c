"""scripts/gpu_check.sh on CPU: the dry run prints and checks every command; output-folder rules; the report."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gpu_check.sh"


def _run(*args, timeout=600):
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_dry_run_prints_and_checks_every_command(tmp_path):
    out = tmp_path / "check"
    done = _run("--dry-run", out)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    printed = {line.split("]")[0].lstrip("["): line for line in lines if line.startswith("[")}
    assert set(printed) == {"env", "tests", "data", "train", "bench", "report"}
    assert "-m cuda" in printed["tests"] and "test_cuda_training.py" in printed["tests"]
    assert "train.amp=true" in printed["train"] and "r50_deaotl_rmem.yaml" in printed["train"]
    bench = printed["bench"]
    for expected in ("--size 480x854", "--objects 2", "--modes fp32 bf16 bf16+compile", "--lengths 100 1000",
                     "--policies rmem", "--max-recent 8"):
        assert expected in bench
    assert sum(line.startswith("  ok: ") for line in lines) == 5
    assert lines[-1].startswith("dry run: all arguments check out")
    assert not out.exists()  # a dry run writes nothing


def test_bad_usage_and_foreign_folders_are_refused(tmp_path):
    done = _run("--dry-run")
    assert done.returncode == 2 and "missing the output folder" in done.stderr
    done = _run("--bogus", tmp_path)
    assert done.returncode == 2 and "unknown option --bogus" in done.stderr
    foreign = tmp_path / "theirs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    done = _run("--dry-run", foreign)
    assert done.returncode == 2 and "not written by gpu_check.sh" in done.stderr
    assert (foreign / "notes.txt").read_text() == "keep me"
    done = _run(tmp_path / "new")  # a real run on a machine without CUDA stops before writing anything
    assert done.returncode == 2 and "no CUDA device" in done.stderr and not (tmp_path / "new").exists()


def _report_module():
    spec = importlib.util.spec_from_file_location("gpu_check_report", REPO / "scripts" / "lib" / "gpu_check_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_collects_steps_bench_and_training(tmp_path):
    report = _report_module()
    steps = tmp_path / "steps.jsonl"
    report.main(["step", str(steps), "tests", "0", "10.0", "52.5", "150", "tests.log", "--", "pytest", "-m", "cuda"])
    report.main(["step", str(steps), "bench", "124", "60.0", "240.0", "180", "bench.log", "--", "bench.py"])
    (tmp_path / "env.json").write_text(json.dumps({"gpu": "NVIDIA H100", "torch": "2.13.0", "cuda": "12.8"}))
    (tmp_path / "bench").mkdir()
    row = {"mode": "bf16+compile", "storage": "static", "length": 100, "fps": 61.5, "ms_per_frame_median": 16.2,
           "ms_per_frame_last50_median": 16.1, "peak_mb": 2048.0, "first_frames_s": 45.0}
    (tmp_path / "bench" / "bench.json").write_text(json.dumps({
        "model": "rmem_r50_deaotl", "size": [480, 854], "objects": 2, "policies": ["rmem_deaot"],
        "max_recent_frames": 8, "gap": 5, "complete": False, "results": [row]}))
    (tmp_path / "train" / "log").mkdir(parents=True)
    (tmp_path / "train" / "log" / "metrics.jsonl").write_text(
        "\n".join(json.dumps({"step": s, "pred_loss": 1.0 / s}) for s in (1, 2)) + "\n")
    assert report.main(["report", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "gpu_check.json").read_text())
    assert [s["step"] for s in data["steps"]] == ["tests", "bench"] and not data["all_ok"]
    assert data["steps"][1]["timed_out"] and data["steps"][0]["seconds"] == 42.5
    assert data["train"]["steps"] == 2 and data["train"]["last_loss"] == 0.5
    text = (tmp_path / "summary.txt").read_text()
    assert "NVIDIA H100, torch 2.13.0" in text and "TIMED OUT" in text and "(INCOMPLETE)" in text
    assert "bf16+compile  static      100    61.5" in text and text.rstrip().endswith("SOME STEPS FAILED")
    assert report.main(["nonsense"]) == 2
