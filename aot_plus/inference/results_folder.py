"""Which results an evaluation may reuse: the results folder records what produced it and refuses other settings.

``aot_plus.eval`` marks its ``--output`` folder (:mod:`aot_plus.io.ownership`) with a key: the checkpoint's name,
size and modification time, the config values that change the masks (:data:`RESULT_KEYS`), the dataset, its root
and the split. A rerun with the same key continues where the last one stopped (finished sequence folders are
skipped); a rerun with another key is refused with a message listing what differs, unless ``--overwrite`` is
given, which removes the folder's sequence results and computes everything again. A folder that holds other files
is refused unless ``--force-output``; results found there are never reused, since nothing says what made them.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Sequence

from aot_plus.config import to_dict
from aot_plus.io.ownership import check_key, claim_folder, file_key, owns, record_key

log = logging.getLogger(__name__)

TOOL = "aot_plus.eval"

#: Config entries that change the masks; finished sequences computed with other values are not reused.
RESULT_KEYS = (("model",), ("memory",), ("eval", "flip"), ("eval", "scales"), ("eval", "max_long_side"),
               ("eval", "session"), ("eval", "amp"), ("eval", "output_layout"), ("data", "mean"), ("data", "std"),
               ("data", "long_videos_output_height"))


def result_settings(tree: dict) -> dict:
    """The :data:`RESULT_KEYS` entries of a config tree, by dotted name."""
    out = {}
    for path in RESULT_KEYS:
        node = tree
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        out[".".join(path)] = node
    return out


def results_key(cfg: Any, checkpoint: Any, dataset: str, dataset_root: Path, split: str) -> dict[str, Any]:
    """What produced a results folder (see the module docstring)."""
    return {"checkpoint": file_key(checkpoint) or "none", "dataset": dataset, "dataset_root": str(dataset_root),
            "split": split, "config": result_settings(to_dict(cfg))}


def prepare_results_folder(output: Path, results_root: Path, key: dict[str, Any], inputs: Sequence[Path],
                           sequence_names: Sequence[str], overwrite: bool, force: bool) -> bool:
    """Claim ``output`` for this evaluation and decide whether its finished sequences may be reused.

    Args:
        output: the ``--output`` folder.
        results_root: where the sequence folders live (``output`` or ``output/Annotations``).
        key: this run's :func:`results_key`.
        inputs: the dataset root and checkpoint (the output may not overlap them without ``force``).
        sequence_names: every sequence of the split: the only folder names ``overwrite`` removes.
        overwrite: replace results of other settings.
        force: write into a folder holding other files.

    Returns:
        True when finished sequence folders may be skipped.

    Raises:
        aot_plus.io.ownership.OutputFolderError: the folder is not this tool's, or holds results of another key
            and ``overwrite`` is off.
    """
    manifest = claim_folder(output, TOOL, inputs=inputs, force=force)
    had_key = manifest.get("key") is not None
    try:
        same = check_key(output, manifest, key, "use a new --output folder, or pass --overwrite to delete those "
                                                "results and compute them again")
    except ValueError:
        if not overwrite:
            raise
        same = False
    if had_key and not same:
        if owns(output):
            removed = [n for n in sequence_names if (results_root / n).is_dir()]
            for name in removed:
                shutil.rmtree(results_root / name)
            log.info("--overwrite: removed %d sequence result(s) of other settings from %s", len(removed), output)
    record_key(output, manifest, key)
    return had_key and same
