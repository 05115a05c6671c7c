"""Atomic writes: complete file or none, the user's umask, one-line errors naming the path."""
from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from aot_plus.io.atomic import OutputError, atomic_dir, atomic_path, atomic_write, file_mode, write_bytes, write_text


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_write_text_mode_follows_umask(tmp_path, umask_022):
    path = write_text(tmp_path / "sub" / "config.yaml", "a: 1\n")
    assert path.read_text() == "a: 1\n"
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    os.umask(0o027)
    assert file_mode() == 0o640
    assert write_bytes(tmp_path / "b.bin", b"xy").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_error_inside_block_keeps_previous_file(tmp_path):
    path = write_text(tmp_path / "f.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as stream:
            stream.write("new, half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_temporary_path_keeps_suffix(tmp_path):
    with atomic_path(tmp_path / "plot.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.name.startswith(".")
        tmp.write_bytes(b"png")
    assert (tmp_path / "plot.png").read_bytes() == b"png"


def test_read_only_folder_is_one_line_naming_the_path(tmp_path, monkeypatch):
    def refusing_open(path, flags, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(OutputError) as info:
        write_text(tmp_path / "x.yaml", "a")
    assert str(info.value) == f"cannot write {tmp_path / 'x.yaml'}: read-only file system"


def test_disk_full_is_named_and_leaves_nothing(tmp_path):
    # A file-size limit makes write() fail with EFBIG the way a full disk fails with ENOSPC.
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "from aot_plus.io.atomic import write_bytes, OutputError\n"
            "try:\n"
            "    write_bytes(sys.argv[1], b'x' * 100000)\n"
            "except OutputError as err:\n"
            "    print(err)\n")
    target = tmp_path / "big.bin"
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().startswith(f"cannot write {target}: "), done.stderr
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_only_when_complete(tmp_path, umask_022):
    target = tmp_path / "data"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    assert target.stat().st_mode & 0o777 == 0o755 and (target / "a.txt").read_text() == "1"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "b.txt").write_text("2")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"] and [p.name for p in target.iterdir()] == ["a.txt"]
    with atomic_dir(target) as tmp:
        (tmp / "c.txt").write_text("3")
    assert [p.name for p in target.iterdir()] == ["c.txt"] and sorted(p.name for p in tmp_path.iterdir()) == ["data"]
