"""Fixtures of the robustness suite: a folder the process cannot write into, also when the tests run as root."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest


@pytest.fixture
def read_only_dir(tmp_path, monkeypatch) -> Path:
    """A folder whose files cannot be created: mode 0555, plus EROFS from ``os.open`` when running as root."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root ignores the mode: behave like a read-only mount instead
        real_open = os.open

        def refusing_open(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and Path(os.fspath(path)).resolve().parent == folder.resolve():
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    yield folder
    folder.chmod(0o755)
