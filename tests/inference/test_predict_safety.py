"""``aot_plus.predict`` never deletes or corrupts a user's files and refuses bad inputs with one line.

Each test is a case that exited 0 with lost or wrong data before (see the README "Safety" section).
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess

import numpy as np
import pytest
from PIL import Image

from aot_plus.inference import video_io
from aot_plus.inference.video_io import VideoSource, read_rgb
from aot_plus.predict import main

from .conftest import BASE_OVERRIDES, CONFIG, PYTHON, REPO, subprocess_env


def _frames_and_mask(vost_root):
    name = (vost_root / "ImageSets" / "val.txt").read_text().split()[0]
    frames = sorted((vost_root / "JPEGImages_10fps" / name).glob("*.jpg"))
    return frames, vost_root / "Annotations" / name / f"{frames[0].stem}.png"


def _args(checkpoint, video, mask, out, *extra):
    return ["--ckpt", str(checkpoint), "--config", str(CONFIG), "--video", str(video), "--mask", str(mask),
            "--output", str(out), *BASE_OVERRIDES, *extra]


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _last_error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and "Traceback" not in "\n".join(lines)
    return lines[-1]


@pytest.fixture
def frame_folder(vost_root, tmp_path):
    frames, mask = _frames_and_mask(vost_root)
    folder = tmp_path / "frames"
    folder.mkdir()
    for frame in frames:
        shutil.copy(frame, folder / frame.name)
    shutil.copy(mask, tmp_path / "first.png")
    return folder, tmp_path / "first.png"


def test_output_into_the_input_folder_is_refused(frame_folder, checkpoint, capsys):
    folder, mask = frame_folder
    before = _snapshot(folder)
    for out in (folder, folder / "masks"):
        assert main(_args(checkpoint, folder, mask, out)) == 2
        assert "overlaps the input" in _last_error(capsys)
    assert _snapshot(folder) == before  # input JPEGs intact, nothing added


def test_folder_with_user_files_refused_kept_with_force(frame_folder, checkpoint, tmp_path, capsys):
    folder, mask = frame_folder
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    assert main(_args(checkpoint, folder, mask, out)) == 2
    assert "holds files this tool did not write (thesis.tex)" in _last_error(capsys)
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    assert main(_args(checkpoint, folder, mask, out, "--force-output")) == 0
    assert (out / "thesis.tex").read_text() == "precious"
    assert len(list(out.glob("*.png"))) == len(list(folder.iterdir()))


def test_rerun_removes_only_its_own_stale_masks(frame_folder, checkpoint, tmp_path):
    folder, mask = frame_folder
    out = tmp_path / "masks"
    assert main(_args(checkpoint, folder, mask, out)) == 0
    written = sorted(p.name for p in out.glob("*.png"))
    last = sorted(folder.iterdir())[-1]
    last.unlink()  # a shorter video: the previous run's last mask is stale
    assert main(_args(checkpoint, folder, mask, out)) == 0
    assert sorted(p.name for p in out.glob("*.png")) == written[:-1]


def test_dotted_and_unpadded_names(frame_folder, checkpoint, tmp_path):
    folder, mask = frame_folder
    frames = sorted(folder.iterdir())
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for index, frame in enumerate(frames * 2):  # 12 frames named clip.1.jpg ... clip.12.jpg
        shutil.copy(frame, renamed / f"clip.{index + 1}.jpg")
    assert [stem for stem, _ in VideoSource(renamed)] == [f"clip.{i}" for i in range(1, 13)]  # natural order
    out = tmp_path / "out"
    assert main(_args(checkpoint, renamed, mask, out)) == 0
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"clip.{i}.png" for i in range(1, 13))


def test_duplicate_stems_are_an_error(frame_folder, checkpoint, capsys):
    folder, mask = frame_folder
    first = sorted(folder.iterdir())[0]
    Image.open(first).save(folder / f"{first.stem}.png")
    assert main(_args(checkpoint, folder, mask, folder.parent / "o")) == 2
    assert f"have the same name {first.stem!r}" in _last_error(capsys)


def test_jpeg_and_empty_first_masks(frame_folder, checkpoint, tmp_path, capsys):
    folder, mask = frame_folder
    ids = np.array(Image.open(mask))
    Image.fromarray(np.where(ids > 0, 255, 0).astype(np.uint8)).convert("RGB").save(tmp_path / "m.jpg")
    assert main(_args(checkpoint, folder, tmp_path / "m.jpg", tmp_path / "a")) == 2
    assert "not a palette PNG" in _last_error(capsys) and not (tmp_path / "a").exists()
    assert main(_args(checkpoint, folder, tmp_path / "m.jpg", tmp_path / "b", "--binary-mask")) == 0
    first = np.array(Image.open(tmp_path / "b" / f"{sorted(folder.iterdir())[0].stem}.png"))
    assert set(np.unique(first)) == {0, 1}
    empty = Image.fromarray(np.zeros_like(ids), mode="P")
    empty.putpalette(Image.open(mask).getpalette())
    empty.save(tmp_path / "empty.png")
    assert main(_args(checkpoint, folder, tmp_path / "empty.png", tmp_path / "c")) == 2
    assert "holds no object" in _last_error(capsys)


def test_frame_size_change_and_corrupt_frame_name_the_file(frame_folder, checkpoint, tmp_path, capsys):
    folder, mask = frame_folder
    frames = sorted(folder.iterdir())
    rgb = read_rgb(frames[3])
    Image.fromarray(rgb[:-5, :-7]).save(frames[3], quality=95)
    assert main(_args(checkpoint, folder, mask, tmp_path / "a")) == 2
    height, width = rgb.shape[:2]
    err = _last_error(capsys)
    assert f"frame 3 ({frames[3]}) is {width - 7}x{height - 5} but frame 0 ({frames[0]}) is {width}x{height}" in err
    data = frames[0].read_bytes()
    frames[3].write_bytes(data[: len(data) // 2])
    assert main(_args(checkpoint, folder, mask, tmp_path / "b")) == 2
    assert f"frame 3 ({frames[3]}) cannot be decoded: truncated JPEG" in _last_error(capsys)
    assert not list((tmp_path / "b").glob("*.png"))


def test_read_only_overlay_path_is_reported_as_such(frame_folder, checkpoint, read_only_overlay, tmp_path, capsys):
    folder, mask = frame_folder
    movie = read_only_overlay / "o.mp4"
    assert main(_args(checkpoint, folder, mask, tmp_path / "a", "--overlay", str(movie))) == 2
    err = _last_error(capsys)
    assert err.startswith(f"error: cannot write {movie}: ") and "format" not in err
    assert ("read-only" in err or "permission denied" in err) and not movie.exists()


@pytest.fixture
def read_only_overlay(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root: refuse creating files there like a read-only mount would
        import errno
        real_open = os.open

        def refusing_open(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and os.path.dirname(os.path.abspath(path)) == str(folder):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    yield folder
    folder.chmod(0o755)


def _noise_video(folder, frames=8, size=(160, 120)):
    rng = np.random.default_rng(0)
    folder.mkdir()
    for index in range(frames):
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(
            folder / f"{index:05d}.png")


def test_disk_full_overlay_is_an_error_not_a_truncated_video(tmp_path):
    video = tmp_path / "noise"
    _noise_video(video)
    mask = np.zeros((120, 160), np.uint8)
    mask[30:60, 40:90] = 1
    image = Image.fromarray(mask, mode="P")
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.save(tmp_path / "first.png")
    movie = tmp_path / "overlay.avi"

    def limit_file_size():  # like a full disk: writes past 60 kB fail (EFBIG instead of ENOSPC)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    cmd = [PYTHON, "-m", "aot_plus.predict", *_args("none", video, tmp_path / "first.png", tmp_path / "masks",
                                                     "--overlay", str(movie))]
    done = subprocess.run(cmd, cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=300,
                          preexec_fn=limit_file_size)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: cannot write {movie}: ")
    assert "Traceback" not in done.stderr and not movie.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_sigterm_ends_with_one_line_and_no_partial_files(frame_folder, checkpoint, tmp_path, monkeypatch, capsys):
    folder, mask = frame_folder
    calls = []
    real_overlay = video_io.overlay

    def overlay_then_signal(*args):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_overlay(*args)

    monkeypatch.setattr("aot_plus.predict.overlay", overlay_then_signal)
    out, movie = tmp_path / "masks", tmp_path / "o.mp4"
    assert main(_args(checkpoint, folder, mask, out, "--overlay", str(movie))) == 128 + signal.SIGTERM
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("interrupted by SIGTERM") and "Traceback" not in "\n".join(err)
    assert not movie.exists() and not list(out.glob("*.png")) and not (out / ".partial").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
