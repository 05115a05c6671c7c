"""Argument checking of scripts/bench_reference.py (the benchmark itself needs a reference checkout; not run here)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "bench_reference.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("bench_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_reference_is_one_line_and_non_zero(tmp_path):
    missing = tmp_path / "no_such_checkout"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, str(SCRIPT), "--reference", str(missing)], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(missing) in lines[0] and "no such folder" in lines[0] and "Traceback" not in result.stderr
    assert not missing.exists()


def test_folder_that_is_not_a_checkout_is_refused(tmp_path):
    module = _load_script()
    (tmp_path / "aot_plus" / "networks").mkdir(parents=True)
    with pytest.raises(SystemExit, match=r"aot_plus/networks/engines/deaot_engine\.py") as err:
        module.main(["--reference", str(tmp_path)])
    assert "\n" not in str(err.value) and str(tmp_path) in str(err.value)


def test_other_arguments_are_checked_before_any_work(tmp_path):
    module = _load_script()
    checkout = tmp_path / "rmem"
    for marker in module.REFERENCE_MARKERS:
        (checkout / marker).parent.mkdir(parents=True, exist_ok=True)
        (checkout / marker).write_text("")
    with pytest.raises(SystemExit, match="16k\\+1"):
        module.main(["--reference", str(checkout), "--size", "240x432"])
    with pytest.raises(SystemExit, match="--frames"):
        module.main(["--reference", str(checkout), "--frames", "3", "--warmup", "5"])
    with pytest.raises(SystemExit, match="expected a file path"):
        module.main(["--reference", str(checkout), "--out", str(tmp_path)])
    # Importing and checking arguments never imports the reference's modules.
    assert "networks" not in sys.modules and str(checkout / "aot_plus") not in sys.path


def test_synthetic_video_labels_the_boxes_of_frame_zero():
    module = _load_script()
    video, label = module.synthetic_video(3, (65, 97), 2, seed=0)
    assert video.shape == (3, 65, 97, 3) and video.dtype.name == "uint8"
    assert sorted(set(label.ravel().tolist())) == [0, 1, 2]
    for obj in (1, 2):  # each object is one box of a single colour in frame 0
        colours = video[0][label == obj]
        assert (colours == colours[0]).all()
    assert not (video[1] == video[0]).all()


def test_no_reference_argument_is_one_line(capsys):
    module = _load_script()
    with pytest.raises(SystemExit, match="--reference PATH is required") as err:
        module.main([])
    assert "\n" not in str(err.value)
