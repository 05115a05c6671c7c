"""Which output folders a tool may write into, and what produced the results already in them.

A tool marks every output folder it creates with a small manifest file, :data:`MANIFEST_NAME`, holding the
tool's name and, for results that a rerun may reuse, a *key*: what produced them (checkpoint size and
modification time, the resolved settings that shape the results, the dataset and split). Rules:

- a folder that does not exist, or is empty, is created / taken and marked;
- a marked folder may be written into again; a rerun compares its key with the recorded one and refuses, saying
  what differs, unless the caller chose to overwrite (:func:`check_key`);
- an existing folder holding anything else, or a folder that is (or lies inside, or contains) one of the tool's
  inputs, is refused unless the user passes an explicit flag; even then the tool only replaces files of the
  names it writes and deletes nothing it did not write.

Example::

    claim_folder(out, "aot_plus.predict", inputs=[video, mask], force=args.force_output)
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from aot_plus.io.atomic import output_error, write_text

PathLike = Union[str, os.PathLike]

#: File marking a folder as written by an aot_plus tool.
MANIFEST_NAME = ".aot_plus_output.json"
#: The command-line flag that lets a tool write into a folder it does not own (named in messages).
FORCE_FLAG = "--force-output"


class OutputFolderError(ValueError):
    """An output folder the tool must not write into (user files, an input folder, results of other settings)."""


def manifest_path(folder: PathLike) -> Path:
    """The manifest file of ``folder``."""
    return Path(folder) / MANIFEST_NAME


def read_manifest(folder: PathLike) -> Optional[dict[str, Any]]:
    """The manifest of ``folder``, or None when the folder is not marked (or the file is not ours)."""
    path = manifest_path(folder)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "tool" in data else None


def write_manifest(folder: PathLike, data: Mapping[str, Any]) -> Path:
    """Write (atomically) the manifest of ``folder``."""
    return write_text(manifest_path(folder), json.dumps(dict(data), indent=1, sort_keys=True) + "\n")


def input_conflict(folder: PathLike, inputs: Iterable[PathLike]) -> Optional[Path]:
    """The first input that is ``folder``, lies inside it, or (an input folder) contains it; None when none."""
    out = Path(folder).resolve()
    for item in inputs:
        path = Path(item).resolve()
        if out == path or out in path.parents or (path.is_dir() and path in out.parents):
            return Path(item)
    return None


def claim_folder(folder: PathLike, tool: str, inputs: Iterable[PathLike] = (), force: bool = False,
                 what: str = "output folder", own_names: Iterable[str] = ()) -> dict[str, Any]:
    """Make sure ``tool`` may write into ``folder`` and mark it; returns its manifest (recorded key included).

    Args:
        folder: the output folder (created when missing).
        tool: the tool's name, recorded in the manifest.
        inputs: files and folders the run reads; the output may not be, lie inside, or contain any of them.
        force: the user's explicit permission to write into a folder holding other files, or an input folder.
        own_names: names the tool writes; an unmarked folder holding only these (a run of a version without
            manifests) is taken as the tool's.

    Raises:
        OutputFolderError: the folder is an input folder, or holds files the tools did not write, and ``force``
            is off; or the path is a file.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"{what} {folder} is a file, not a folder")
    if not force:
        clash = input_conflict(folder, inputs)
        if clash is not None:
            raise OutputFolderError(f"{what} {folder} overlaps the input {clash}; choose another folder (or pass "
                                    f"{FORCE_FLAG} to write there anyway)")
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is not None:
        return manifest
    if folder.is_dir() and not force:
        others = sorted(p.name for p in folder.iterdir()
                        if p.name not in own_names and not p.name.startswith(f".{Path(MANIFEST_NAME).stem}."))
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise OutputFolderError(f"{what} {folder} already holds files this tool did not write ({shown}); "
                                    f"choose a new or empty folder (or pass {FORCE_FLAG} to write into it; "
                                    "files of the same names are replaced, nothing else is deleted)")
    foreign = folder.is_dir() and any(p.name not in own_names for p in folder.iterdir())
    manifest = {"tool": tool, "adopted": foreign}
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise output_error(folder, err) from err
    write_manifest(folder, manifest)
    return manifest


def owns(folder: PathLike) -> bool:
    """True when ``folder`` carries a manifest and nothing but the tools' own files (see :func:`claim_folder`)."""
    manifest = read_manifest(folder)
    return manifest is not None and not manifest.get("adopted", False)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, Mapping):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: tree}


def key_differences(recorded: Mapping[str, Any], current: Mapping[str, Any], limit: int = 4,
                    ignore: Optional[Callable[[str], bool]] = None) -> list[str]:
    """``name: old -> new`` for every leaf (dotted name) that differs between two keys and is not ``ignore``-d,
    at most ``limit`` of them, then a count."""
    before, now = _flatten(json.loads(json.dumps(recorded))), _flatten(json.loads(json.dumps(current)))
    names = sorted(n for n in set(before) | set(now) if ignore is None or not ignore(n))
    diffs = [f"{n}: {before.get(n, '(unset)')} -> {now.get(n, '(unset)')}" for n in names
             if before.get(n) != now.get(n)]
    if len(diffs) > limit:
        diffs = diffs[:limit] + [f"and {len(diffs) - limit} more"]
    return diffs


def check_key(folder: PathLike, manifest: Mapping[str, Any], key: Mapping[str, Any], how_to_choose: str) -> bool:
    """Compare a results folder's recorded key with this run's.

    Returns:
        True when the folder records no key yet (fresh results) or the same key (its results may be reused).

    Raises:
        OutputFolderError: the keys differ; the message lists what differs and ``how_to_choose``.
    """
    recorded = manifest.get("key")
    if recorded is None:
        return True
    diffs = key_differences(recorded, key)
    if not diffs:
        return True
    raise OutputFolderError(f"{folder} holds results of other settings ({'; '.join(diffs)}); {how_to_choose}")


def record_key(folder: PathLike, manifest: Mapping[str, Any], key: Mapping[str, Any]) -> dict[str, Any]:
    """Store ``key`` in the folder's manifest; returns the new manifest."""
    data = {**manifest, "key": json.loads(json.dumps(key))}
    write_manifest(folder, data)
    return data


def file_key(path: Optional[PathLike]) -> Optional[dict[str, Any]]:
    """What identifies a file without reading it: its name, size and modification time (None for no file)."""
    if path is None:
        return None
    stat = Path(path).stat()
    return {"name": Path(path).name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def check_replaceable(path: PathLike, recorded: Optional[Mapping[str, Any]], force: bool = False,
                      what: str = "output file") -> None:
    """Refuse to replace an existing file unless it is the one a tool recorded writing (same :func:`file_key`).

    Raises:
        OutputFolderError: ``path`` is a folder, or a file this tool did not write and ``force`` is off.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputFolderError(f"{what} {path} is a folder, not a file")
    if not path.exists() or force or (recorded is not None and dict(recorded) == file_key(path)):
        return
    raise OutputFolderError(f"{what} {path} already exists and was not written by this tool; choose another name "
                            f"(or pass {FORCE_FLAG} to replace it)")


def forget_stale_files(folder: PathLike, manifest: Mapping[str, Any], written: Iterable[str],
                       **records: Any) -> dict[str, Any]:
    """After a run rewrote ``folder``: delete the files the previous run recorded but this one did not write,
    then record ``written`` (and ``records``, e.g. an overlay's :func:`file_key`) in the manifest.

    Only names the manifest lists are ever deleted, so files of the user's stay whatever happens.
    """
    folder = Path(folder)
    written = sorted(set(written))
    for name in sorted(set(manifest.get("files", ())) - set(written)):
        if "/" not in name and name not in (MANIFEST_NAME, ".", ".."):
            (folder / name).unlink(missing_ok=True)
    data = {**manifest, "files": written, **records}
    write_manifest(folder, data)
    return data


def claim_outputs(folder: PathLike, tool: str, inputs: Iterable[PathLike] = (),
                  files: Optional[Mapping[str, Optional[PathLike]]] = None, force: bool = False) -> dict[str, Any]:
    """:func:`claim_folder` for ``folder`` plus, for each named output file outside it (e.g. ``{"overlay": path}``),
    the same input check and :func:`check_replaceable` against the file key recorded under that name.

    Returns:
        The folder's manifest.
    """
    inputs = list(inputs)
    manifest = claim_folder(folder, tool, inputs=inputs, force=force)
    for name, path in (files or {}).items():
        if path is None:
            continue
        clash = None if force else input_conflict(path, inputs)
        if clash is not None:
            raise OutputFolderError(f"{name} file {path} overlaps the input {clash}; choose another name (or pass "
                                    f"{FORCE_FLAG} to write there anyway)")
        check_replaceable(path, manifest.get(name), force, what=f"{name} file")
    return manifest
