"""Tests of ``python -m aot_plus.predict`` on a frame folder and on an mp4 video, with the overlay video."""
from __future__ import annotations

import subprocess

import numpy as np
from PIL import Image

from aot_plus.inference.video_io import OverlayVideoWriter, VideoSource, read_rgb
from aot_plus.inference.writer import PALETTE
from aot_plus.predict import main

from .conftest import BASE_OVERRIDES, CONFIG, PYTHON, REPO, subprocess_env


def _sequence(vost_root):
    name = (vost_root / "ImageSets" / "val.txt").read_text().split()[0]
    frames = sorted((vost_root / "JPEGImages_10fps" / name).glob("*.jpg"))
    return frames, vost_root / "Annotations" / name / f"{frames[0].stem}.png"


def test_predict_frames_folder_with_overlay(vost_root, checkpoint, tmp_path):
    frames, mask = _sequence(vost_root)
    out, movie = tmp_path / "masks", tmp_path / "overlay.mp4"
    args = ["--ckpt", str(checkpoint), "--config", str(CONFIG), "--video", str(frames[0].parent), "--mask",
            str(mask), "--output", str(out), "--overlay", str(movie), *BASE_OVERRIDES]
    assert main(args) == 0
    assert sorted(p.stem for p in out.glob("[!.]*")) == [f.stem for f in frames]
    first_ids = np.array(Image.open(mask))
    with Image.open(out / f"{frames[0].stem}.png") as img:
        assert img.getpalette()[:768] == list(PALETTE)
        np.testing.assert_array_equal(np.array(img), first_ids)  # frame 0 = the given mask
    for frame in frames[1:]:
        with Image.open(out / f"{frame.stem}.png") as img:
            assert img.mode == "P" and img.size == (first_ids.shape[1], first_ids.shape[0])
            assert set(np.unique(np.array(img))) <= set(np.unique(first_ids)) | {0}
    source = VideoSource(movie)
    assert source.num_frames == len(frames)
    assert not (tmp_path / ".partial").exists()


def test_predict_mp4_subprocess(vost_root, checkpoint, tmp_path):
    frames, mask = _sequence(vost_root)
    video = tmp_path / "clip.mp4"
    writer = OverlayVideoWriter(video, fps=10)
    for frame in frames:
        writer.write(read_rgb(frame)[:64, :96])  # even size: what a real codec stores
    writer.close()
    mask_even = tmp_path / "first.png"
    with Image.open(mask) as img:
        img.crop((0, 0, 96, 64)).save(mask_even)
    out = tmp_path / "mp4_masks"
    cmd = [PYTHON, "-m", "aot_plus.predict", "--ckpt", str(checkpoint), "--config", str(CONFIG), "--video",
           str(video), "--mask", str(mask_even), "--output", str(out), "--overlay", str(tmp_path / "o.avi"),
           *BASE_OVERRIDES]
    done = subprocess.run(cmd, cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("[!.]*")) == [f"{i:05d}.png" for i in range(len(frames))]
    assert VideoSource(tmp_path / "o.avi").num_frames == len(frames)


def test_predict_mask_size_mismatch(vost_root, checkpoint, tmp_path, capsys):
    frames, _ = _sequence(vost_root)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small.png")
    args = ["--ckpt", str(checkpoint), "--config", str(CONFIG), "--video", str(frames[0].parent), "--mask",
            str(tmp_path / "small.png"), "--output", str(tmp_path / "o"), *BASE_OVERRIDES]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: mask") and "10x10" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.png"]  # nothing half-written


def test_predict_missing_video(checkpoint, tmp_path, capsys):
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "m.png")
    args = ["--ckpt", str(checkpoint), "--config", str(CONFIG), "--video", str(tmp_path / "none.mp4"), "--mask",
            str(tmp_path / "m.png"), "--output", str(tmp_path / "o"), *BASE_OVERRIDES]
    assert main(args) == 2
    assert "none.mp4 does not exist" in capsys.readouterr().err


def test_predict_per_object_layout(vost_root, checkpoint, tmp_path):
    frames, mask = _sequence(vost_root)
    out = tmp_path / "sav"
    args = ["--ckpt", str(checkpoint), "--config", str(CONFIG), "--video", str(frames[0].parent), "--mask",
            str(mask), "--output", str(out), "--per-object", *BASE_OVERRIDES]
    assert main(args) == 0
    first = np.array(Image.open(mask))
    ids = [int(i) for i in np.unique(first) if i != 0]
    assert sorted(p.name for p in out.glob("[!.]*")) == [f"{i:03d}" for i in ids]
    for obj_id in ids:
        assert sorted(p.stem for p in (out / f"{obj_id:03d}").iterdir()) == [f.stem for f in frames]
        with Image.open(out / f"{obj_id:03d}" / f"{frames[0].stem}.png") as img:
            np.testing.assert_array_equal(np.array(img), (first == obj_id).astype(np.uint8))
    assert main(args) == 0  # a rerun replaces its own per-object files
