"""End-to-end tests of ``python -m aot_plus.eval`` on a synthetic VOST dataset with a random-weights AOT-T."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aot_plus.eval import main
from aot_plus.inference.writer import PALETTE

from .conftest import BASE_OVERRIDES, CONFIG, HEIGHT, PYTHON, REPO, WIDTH, subprocess_env


def _args(root: Path, ckpt: Path, out: Path, *extra: str) -> list[str]:
    return ["--config", str(CONFIG), "--dataset", "vost", "--split", "val", "--ckpt", str(ckpt), "--output",
            str(out), "--dataset-path", str(root), *BASE_OVERRIDES, *extra]


def _val_names(root: Path) -> list[str]:
    return (root / "ImageSets" / "val.txt").read_text().split()


def _frame_stems(root: Path, name: str) -> list[str]:
    return sorted(p.stem for p in (root / "JPEGImages_10fps" / name).glob("*.jpg"))


def _check_sequence(root: Path, out: Path, name: str) -> None:
    stems = _frame_stems(root, name)
    files = sorted(p.stem for p in (out / name).iterdir())
    assert files == stems, name
    first = (out / name / f"{stems[0]}.png").read_bytes()
    assert first == (root / "Annotations" / name / f"{stems[0]}.png").read_bytes()  # copy of the annotation
    known = set(np.unique(np.array(Image.open(root / "Annotations" / name / f"{stems[0]}.png")))) | {0}
    for stem in stems[1:]:
        with Image.open(out / name / f"{stem}.png") as img:
            assert img.mode == "P"
            assert img.size == (WIDTH, HEIGHT)
            assert img.getpalette()[:768] == list(PALETTE)
            assert set(np.unique(np.array(img))) <= known  # only ids of the first annotation (255: void object)


@pytest.fixture(scope="module")
def first_run(vost_root, checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "results"
    assert main(_args(vost_root, checkpoint, out)) == 0
    return out


def test_every_frame_written_and_csvs(first_run, vost_root):
    names = _val_names(vost_root)
    assert len(names) == 3
    for name in names:
        _check_sequence(vost_root, first_run, name)
    assert not (first_run / ".partial").exists()
    with open(first_run / "global_results-val.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and 0.0 <= float(rows[0]["J-Mean"]) <= 1.0
    with open(first_run / "per-sequence_results-val.csv") as handle:
        per_object = [row["Sequence"] for row in csv.DictReader(handle)]
    assert {p.rsplit("_", 1)[0] for p in per_object} == set(names)
    assert (first_run / "config.yaml").is_file()


def test_rerun_recomputes_only_the_deleted_sequence(first_run, vost_root, checkpoint, capsys, caplog):
    names = _val_names(vost_root)
    before = {n: {p.name: p.stat().st_mtime_ns for p in (first_run / n).iterdir()} for n in names}
    victim = names[1]
    for path in (first_run / victim).iterdir():
        path.unlink()
    (first_run / victim).rmdir()
    caplog.set_level("INFO")
    assert main(_args(vost_root, checkpoint, first_run)) == 0
    _check_sequence(vost_root, first_run, victim)
    for name in names:
        if name != victim:
            after = {p.name: p.stat().st_mtime_ns for p in (first_run / name).iterdir()}
            assert after == before[name], f"{name} was rewritten"
    assert "1 of 1 sequence(s) to segment" in caplog.text
    assert "skipping 2 finished sequence(s)" in caplog.text
    assert "J-Mean" in capsys.readouterr().out


def test_flip_and_multiscale(vost_root, checkpoint, tmp_path):
    name = _val_names(vost_root)[0]
    out = tmp_path / "tta"
    assert main(_args(vost_root, checkpoint, out, "--flip", "--scales", "1.0", "1.3", "--sequences", name,
                      "eval.metric=none")) == 0
    _check_sequence(vost_root, out, name)
    assert not (out / "global_results-val.csv").exists()


def test_missing_checkpoint_is_one_clear_error(vost_root, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(_args(vost_root, tmp_path / "nope.pth", tmp_path / "out"))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: checkpoint file {tmp_path / 'nope.pth'} does not exist (--ckpt)"]


def test_bad_dataset_path_is_one_clear_error(checkpoint, tmp_path, capsys):
    assert main(_args(tmp_path / "missing", checkpoint, tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "missing" in err[0]


def _writing(partial: Path) -> bool:
    """True once some sequence under ``.partial`` holds at least two frames (folders may move meanwhile)."""
    try:
        return any(len(list(d.iterdir())) >= 2 for d in partial.iterdir())
    except FileNotFoundError:
        return False


#: ``python -m aot_plus.eval`` with every propagated frame slowed down, so the run can be killed mid-sequence.
SLOW_EVAL = """
import sys, time
from aot_plus.engine import session
step = session.VideoSession.step
def slow_step(self, *args, **kwargs):
    time.sleep(0.4)
    return step(self, *args, **kwargs)
session.VideoSession.step = slow_step
from aot_plus.eval import main
sys.exit(main(sys.argv[1:]))
"""


def test_killed_run_leaves_no_half_written_sequence(vost_root, checkpoint, tmp_path):
    out = tmp_path / "killed"
    cmd = [PYTHON, "-c", SLOW_EVAL, *_args(vost_root, checkpoint, out)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=subprocess_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    partial = out / ".partial"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if _writing(partial):
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        else:
            pytest.fail("the run never started writing a sequence")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    names = _val_names(vost_root)
    started = [d.name for d in partial.iterdir()]
    assert started and all(n in names for n in started)
    for name in names:
        if (out / name).exists():  # published before the kill: must be complete
            _check_sequence(vost_root, out, name)
    assert not all((out / n).exists() for n in names)
    assert main(_args(vost_root, checkpoint, out, "eval.metric=none")) == 0
    for name in names:
        _check_sequence(vost_root, out, name)
    assert not partial.exists()


def test_youtubevos_layout_with_a_later_object(vost_root, checkpoint, tmp_path):
    name = _val_names(vost_root)[0]
    stems = _frame_stems(vost_root, name)
    split = tmp_path / "YTB" / "2019" / "valid"
    (split / "JPEGImages" / "vid").mkdir(parents=True)
    (split / "Annotations" / "vid").mkdir(parents=True)
    for stem in stems:
        (split / "JPEGImages" / "vid" / f"{stem}.jpg").write_bytes(
            (vost_root / "JPEGImages_10fps" / name / f"{stem}.jpg").read_bytes())
    first = np.zeros((HEIGHT, WIDTH), np.uint8)
    first[10:40, 10:50] = 1
    later = first.copy()
    later[45:60, 60:90] = 2
    Image.fromarray(first).save(split / "Annotations" / "vid" / f"{stems[0]}.png")
    Image.fromarray(later).save(split / "Annotations" / "vid" / f"{stems[3]}.png")
    meta = {"videos": {"vid": {"objects": {"1": {"frames": stems}, "2": {"frames": stems[3:]}}}}}
    (split / "meta.json").write_text(json.dumps(meta))
    out = tmp_path / "ytb_out"
    args = ["--config", str(CONFIG), "--dataset", "youtubevos", "--split", "valid", "--ckpt", str(checkpoint),
            "--output", str(out), "--dataset-path", str(tmp_path / "YTB"), *BASE_OVERRIDES]
    assert main(args) == 0
    results = out / "Annotations" / "vid"
    assert sorted(p.stem for p in results.iterdir()) == stems
    with Image.open(results / f"{stems[3]}.png") as img:
        assert (np.array(img)[later == 2] == 2).all()
    before = [np.array(Image.open(results / f"{s}.png")) for s in stems[1:3]]
    assert all(2 not in np.unique(mask) for mask in before)  # object 2 is unknown before its first frame
    assert not list(out.glob("*.csv"))  # no public YouTube-VOS labels: no metric


def test_per_object_layout_needs_no_metric(vost_root, checkpoint, tmp_path, capsys):
    out = tmp_path / "sav"
    assert main(_args(vost_root, checkpoint, out, "eval.output_layout=per_object")) == 2
    assert "eval.metric=none" in capsys.readouterr().err
    name = _val_names(vost_root)[0]
    assert main(_args(vost_root, checkpoint, out, "eval.output_layout=per_object", "eval.metric=none",
                      "--sequences", name)) == 0
    stems = _frame_stems(vost_root, name)
    first = np.array(Image.open(vost_root / "Annotations" / name / f"{stems[0]}.png"))
    ids = [int(i) for i in np.unique(first) if i != 0]
    assert sorted(p.name for p in (out / name).iterdir()) == [f"{i:03d}" for i in ids]
    for obj_id in ids:
        assert sorted(p.stem for p in (out / name / f"{obj_id:03d}").iterdir()) == stems
        with Image.open(out / name / f"{obj_id:03d}" / f"{stems[0]}.png") as img:
            np.testing.assert_array_equal(np.array(img), (first == obj_id).astype(np.uint8))
