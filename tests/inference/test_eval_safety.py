"""``aot_plus.eval`` reuses results only when they come from the same checkpoint, settings and split, never writes
into its dataset, and stops on SIGTERM with one line. Each test failed (exit 0, wrong results) before."""
from __future__ import annotations

import os
import shutil
import signal

import numpy as np
from PIL import Image

from aot_plus.eval import main
from aot_plus.inference import writer as writer_module

from .conftest import BASE_OVERRIDES, CONFIG


def _args(root, ckpt, out, *extra):
    return ["--config", str(CONFIG), "--dataset", "vost", "--split", "val", "--ckpt", str(ckpt), "--output",
            str(out), "--dataset-path", str(root), "eval.metric=none", *BASE_OVERRIDES, *extra]


def _last_error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


def _masks(out, name):
    return {p.name: p.read_bytes() for p in sorted((out / name).iterdir())}


def test_rerun_with_other_policy_or_checkpoint_is_refused(vost_root, checkpoint, tmp_path, capsys, caplog):
    caplog.set_level("INFO")
    out = tmp_path / "results"
    name = (vost_root / "ImageSets" / "val.txt").read_text().split()[0]
    assert main(_args(vost_root, checkpoint, out, "--sequences", name)) == 0
    before = _masks(out, name)
    assert main(_args(vost_root, checkpoint, out, "--sequences", name, "memory=unbounded")) == 2
    err = _last_error(capsys)
    assert "holds results of other settings" in err and "memory" in err and "--overwrite" in err
    other = tmp_path / "other.pth"
    shutil.copy(checkpoint, other)
    os.utime(other, ns=(1, 1))
    assert main(_args(vost_root, other, out, "--sequences", name)) == 2
    assert "checkpoint" in _last_error(capsys)
    assert _masks(out, name) == before and "unbounded" not in (out / "config.yaml").read_text()
    # same settings: reused; --overwrite: recomputed with the new policy and recorded
    caplog.clear()
    assert main(_args(vost_root, checkpoint, out, "--sequences", name)) == 0
    assert "skipping 1 finished" in caplog.text
    caplog.clear()
    assert main(_args(vost_root, checkpoint, out, "--sequences", name, "memory=unbounded", "--overwrite")) == 0
    assert "skipping" not in caplog.text and "unbounded" in (out / "config.yaml").read_text()
    assert main(_args(vost_root, checkpoint, out, "--sequences", name, "memory=unbounded")) == 0


def test_output_inside_the_dataset_or_with_user_files_is_refused(vost_root, checkpoint, tmp_path, capsys):
    assert main(_args(vost_root, checkpoint, vost_root / "results")) == 2
    assert "overlaps the input" in _last_error(capsys) and not (vost_root / "results").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(_args(vost_root, checkpoint, mine)) == 2
    assert "did not write (notes.txt)" in _last_error(capsys)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_first_annotation_without_objects_is_an_error(vost_root, checkpoint, tmp_path, capsys):
    root = tmp_path / "VOST"
    shutil.copytree(vost_root, root)
    name = (root / "ImageSets" / "val.txt").read_text().split()[0]
    first = sorted((root / "Annotations" / name).glob("*.png"))[0]
    with Image.open(first) as image:
        empty = Image.fromarray(np.zeros((image.height, image.width), np.uint8), mode="P")
        empty.putpalette(image.getpalette())
    empty.save(first)
    assert main(_args(root, checkpoint, tmp_path / "out", "--sequences", name)) == 2
    assert f"first annotation {first} holds no object" in _last_error(capsys)


def test_sigterm_keeps_finished_sequences_and_rerun_continues(vost_root, checkpoint, tmp_path, monkeypatch, capsys,
                                                              caplog):
    caplog.set_level("INFO")
    names = (vost_root / "ImageSets" / "val.txt").read_text().split()
    writes = []
    real_write = writer_module.SequenceWriter.write

    def write_then_signal(self, stem, label):
        writes.append(stem)
        if len(writes) == 8:  # inside the second sequence (6 frames each)
            os.kill(os.getpid(), signal.SIGTERM)
        return real_write(self, stem, label)

    monkeypatch.setattr(writer_module.SequenceWriter, "write", write_then_signal)
    out = tmp_path / "results"
    assert main(_args(vost_root, checkpoint, out)) == 128 + signal.SIGTERM
    line = _last_error(capsys)
    assert line.startswith("interrupted by SIGTERM") and "finished sequence folders are kept" in line
    finished = [n for n in names if (out / n).is_dir()]
    assert len(finished) == 1 and not (out / ".partial").exists()
    monkeypatch.setattr(writer_module.SequenceWriter, "write", real_write)
    caplog.clear()
    assert main(_args(vost_root, checkpoint, out)) == 0
    assert "skipping 1 finished" in caplog.text
    assert all((out / n).is_dir() for n in names)
