"""Atomic file writes: a temporary file in the target's folder, flushed to disk, then renamed into place.

One helper for every final file the tools write (checkpoints, ``config.yaml``, CSV tables, PNG masks, plots,
overlay videos, JSON): a reader, or a later run, never finds a half-written file under the final name, and an
interrupted write leaves any previous file of that name as it was.

The temporary file is created with mode ``0o666`` through :func:`os.open`, so the kernel applies the user's umask
and the final file gets the permissions a plain ``open()`` would give it (``tempfile.mkstemp`` would give 0600,
unreadable for a lab mate). Errors a user can fix (disk full, quota, read-only file system, no permission) become
one :class:`OutputError` whose message names the final path.

Example::

    with atomic_path("out/plot.png") as tmp:   # tmp keeps the suffix: libraries that look at it still work
        fig.savefig(tmp)
    write_text("out/config.yaml", text)
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional, Union

PathLike = Union[str, os.PathLike]

#: errno values a user can act on (free space, permissions, a read-only mount, a file size limit).
USER_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


class OutputError(OSError):
    """A final file cannot be written (disk full, read-only, no permission); the message names the path."""

    def __str__(self) -> str:
        return str(self.strerror)


def output_error(path: PathLike, err: OSError) -> OSError:
    """``err`` as an :class:`OutputError` naming ``path`` when the user can fix its cause, else ``err`` itself."""
    if isinstance(err, OutputError) or err.errno not in USER_ERRNOS:
        return err
    reason = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
              errno.EROFS: "read-only file system", errno.EFBIG: "file too large (disk full or size limit)",
              }.get(err.errno, "permission denied")
    return OutputError(err.errno, f"cannot write {path}: {reason}")


def file_mode() -> int:
    """The mode a new file gets from a plain ``open()``: ``0o666`` minus the process umask."""
    try:  # Linux reports the umask without changing it (os.umask would race with other threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _temporary_name(path: Path) -> Path:
    # hidden, unique, and ending in the final suffix (OpenCV, PIL and matplotlib pick the format from it)
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: PathLike, mkdir: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on a clean exit it is flushed to disk and renamed to ``path``.

    The temporary file already exists (empty, with the umask's mode) when the block starts; write it by name (a
    library's ``save(tmp)``) or open it. On an exception the temporary file is removed and ``path`` is untouched.

    Raises:
        OutputError: the folder is read-only or not writable, or the disk is full.
    """
    path = Path(path)
    tmp = _temporary_name(path)
    try:
        if mkdir:
            path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as err:
        raise output_error(path, err) from err
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(err, OSError):
            raise output_error(path, err) from err
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "w", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file for writing (``mode`` ``w`` or ``wb``); it becomes ``path`` on a clean exit."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write opens files with mode 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        try:
            with open(tmp, mode, **open_kwargs) as stream:
                yield stream
        except OSError as err:
            raise output_error(path, err) from err


def write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_write(path, "w", encoding=encoding, newline="") as stream:
        stream.write(text)
    return Path(path)


def write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_write(path, "wb") as stream:
        stream.write(data)
    return Path(path)


def write_with(path: PathLike, save: Callable[[Path], Any]) -> Path:
    """Call ``save(temporary_path)`` (e.g. ``image.save``) and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        save(tmp)
    return Path(path)


def temporary_dir(path: PathLike) -> Path:
    """Create a hidden, unique folder next to ``path`` (a plain ``mkdir``: the umask applies, unlike ``mkdtemp``)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        tmp.mkdir()
    except OSError as err:
        raise output_error(path, err) from err
    return tmp


def replace_folder(tmp: PathLike, path: PathLike) -> Path:
    """Move the complete folder ``tmp`` to ``path``, replacing a folder of that name (moved aside, then deleted).

    The caller must own what it replaces: every file under the old ``path`` is deleted.
    """
    tmp, path = Path(tmp), Path(path)
    try:
        old: Optional[Path] = None
        if path.exists():
            old = tmp.with_name(tmp.name + ".old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old)
    except OSError as err:
        raise output_error(path, err) from err
    return path


@contextlib.contextmanager
def atomic_dir(path: PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on a clean exit it replaces ``path`` (see :func:`replace_folder`),
    on an exception it is removed and ``path`` is untouched."""
    tmp = temporary_dir(path)
    try:
        yield tmp
        replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
