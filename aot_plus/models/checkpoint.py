"""Reading, matching and atomically writing model checkpoints (``docs/model.md``, Loading checkpoints).

Accepted files: a bare state dict, ``{'state_dict': ...}`` (RMem/EMFS/aot-benchmark training and EMA files,
which share one layout), ``{'model': ...}`` (e.g. the Swin ImageNet file), or any dict entry named explicitly;
``module.`` prefixes (DataParallel/DDP) are stripped.

Matching (:func:`load_weights`) is strict by default. The non-strict mode follows the reference
``load_network`` rule used to start the VOST stage from AOT model-zoo weights: mis-shaped keys are skipped,
model keys absent from the file keep their initialisation, and a weight with exactly one input channel fewer
than the model's (the zoo's 11-channel identity bank in a 12-channel model) fills the first input channels.
Unlike the reference, everything is reported, missing keys included.
"""
from __future__ import annotations

import fnmatch
import logging
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import torch
from torch import nn

from aot_plus.io.atomic import atomic_write
from aot_plus.models.encoders import encoder_info

logger = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]
ShapeRecord = tuple[str, tuple[int, ...], tuple[int, ...]]

# Dict entries that hold the weights, tried in this order (reference ``load_network``).
WRAPPER_KEYS = ("state_dict", "model")
DDP_PREFIX = "module."
EXPECTED_CONTENT = ("a state dict (key -> tensor), or a dict holding one under 'state_dict' or 'model' "
                    "(training, EMA and model-zoo files)")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not match the model.

    Attributes:
        report: The :class:`LoadReport` of a failed strict load, else None.
    """

    def __init__(self, message: str, report: Optional["LoadReport"] = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class LoadReport:
    """What a load did with each key.

    Attributes:
        loaded: Keys copied whole.
        partially_copied: ``(key, file shape, model shape)`` of weights copied into the first input channels.
        skipped_mismatched: ``(key, file shape, model shape)`` of keys present in both with other shapes.
        missing: Model keys the file lacks (they keep their current values).
        unexpected: File keys the model lacks.
        ignored: File keys dropped on purpose (``ignore`` patterns), not counted as unexpected.
    """

    loaded: tuple[str, ...] = ()
    partially_copied: tuple[ShapeRecord, ...] = ()
    skipped_mismatched: tuple[ShapeRecord, ...] = ()
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        """True when every model key was loaded whole and the file held nothing else (ignored keys aside)."""
        return not (self.partially_copied or self.skipped_mismatched or self.missing or self.unexpected)

    def format(self, max_keys: int = 20) -> str:
        """Readable multi-line summary, listing at most ``max_keys`` keys per category."""
        lines = [f"loaded {len(self.loaded)} keys"]
        shaped = (("partially copied (first input channels)", self.partially_copied),
                  ("skipped, shape mismatch", self.skipped_mismatched))
        for title, records in shaped:
            if records:
                lines.append(f"{title}: {len(records)}")
                lines += [f"  {key}: file {tuple(f)} vs model {tuple(m)}" for key, f, m in records[:max_keys]]
                lines += _more(len(records), max_keys)
        named = (("missing in file (kept model values)", self.missing), ("unexpected in file", self.unexpected),
                 ("ignored", self.ignored))
        for title, keys in named:
            if keys:
                lines.append(f"{title}: {len(keys)}")
                lines += [f"  {key}" for key in keys[:max_keys]]
                lines += _more(len(keys), max_keys)
        return "\n".join(lines)


def _more(total: int, shown: int) -> list[str]:
    return [f"  ... and {total - shown} more"] if total > shown else []


def load_checkpoint_file(path: Union[str, os.PathLike], entry: Optional[str] = None,
                         allow_pickle: bool = False) -> StateDict:
    """Read the weights of a checkpoint file onto the CPU.

    Args:
        path: The ``.pth`` file.
        entry: Dict entry holding the weights (e.g. ``"ema"``); by default ``state_dict``, else ``model``,
            else the file itself.
        allow_pickle: Also accept files that need full unpickling (only for files you trust); by default
            ``torch.load(weights_only=True)``.

    Returns:
        The state dict with ``module.`` prefixes stripped.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointError: The file cannot be read or holds no state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path} (expected {EXPECTED_CONTENT})")
    try:
        content = torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as error:
        raise CheckpointError(f"{path}: not loadable with torch.load(weights_only=True) ({_error_summary(error)}); "
                              "if it is a checkpoint from a trusted source that needs full unpickling, pass "
                              "allow_pickle=True") from error
    except (RuntimeError, EOFError, OSError) as error:
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({_error_summary(error)})") from error
    return normalise_state_dict(_unwrap(content, entry, str(path)), str(path))


def _error_summary(error: BaseException) -> str:
    """One informative line of a ``torch.load`` error (its weights-only messages span many lines)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    marker = "WeightsUnpickler error:"
    for index, line in enumerate(lines):
        if marker in line:
            detail = line.split(marker, 1)[1].strip() or (lines[index + 1] if index + 1 < len(lines) else "")
            return f"{type(error).__name__}: {detail}"
    return f"{type(error).__name__}: {lines[0] if lines else 'no details'}"


def _unwrap(content: Any, entry: Optional[str], source: str) -> Mapping:
    if not isinstance(content, Mapping):
        raise CheckpointError(f"{source}: holds a {type(content).__name__}; expected {EXPECTED_CONTENT}")
    if entry is not None:
        if entry not in content:
            raise CheckpointError(f"{source}: no entry {entry!r}; top-level keys: {_head(content)}")
        return content[entry]
    for key in WRAPPER_KEYS:
        if key in content:
            return content[key]
    return content


def _head(keys: Any, count: int = 10) -> str:
    keys = list(keys)
    return ", ".join(map(repr, keys[:count])) + (f", ... ({len(keys)} in all)" if len(keys) > count else "")


def normalise_state_dict(state_dict: Mapping, source: str = "<state_dict>") -> StateDict:
    """Check that ``state_dict`` maps names to tensors and strip leading ``module.`` prefixes.

    Raises:
        CheckpointError: A value is not a tensor, or two keys collide once prefixes are stripped.
    """
    if not isinstance(state_dict, Mapping):
        raise CheckpointError(f"{source}: weights are a {type(state_dict).__name__}; expected {EXPECTED_CONTENT}")
    result: StateDict = {}
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{source}: entry {key!r} is a {type(value).__name__}, not a tensor; expected "
                                  f"{EXPECTED_CONTENT} (top-level keys: {_head(state_dict)})")
        name = str(key)
        while name.startswith(DDP_PREFIX):
            name = name[len(DDP_PREFIX):]
        if name in result:
            raise CheckpointError(f"{source}: keys {key!r} and {name!r} name the same weight")
        result[name] = value
    return result


def _matches(key: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


def _one_channel_fewer(value: torch.Tensor, target: torch.Tensor) -> bool:
    return (value.dim() >= 3 and value.shape[0] == target.shape[0] and value.shape[1] == target.shape[1] - 1
            and value.shape[2:] == target.shape[2:])


def load_weights(model: nn.Module, source: Union[Mapping, str, os.PathLike], strict: bool = True,
                 ignore: Sequence[str] = ()) -> LoadReport:
    """Load a state dict or checkpoint file into ``model``.

    Args:
        model: The module to fill (its ``state_dict()`` keys are the reference).
        source: A state dict, or a path read with :func:`load_checkpoint_file`.
        strict: Require exactly the model's keys and shapes; otherwise follow the reference non-strict rule
            (module docstring) and report what was skipped.
        ignore: Glob patterns (``fnmatch``) of file keys to drop before matching, e.g. ``"layer4.*"``.

    Returns:
        A :class:`LoadReport`.

    Raises:
        CheckpointError: ``strict`` and the keys or shapes differ (the message holds the full report).
    """
    name = str(source) if isinstance(source, (str, os.PathLike)) else "<state_dict>"
    weights = (load_checkpoint_file(source) if isinstance(source, (str, os.PathLike))
               else normalise_state_dict(source, name))
    target = model.state_dict()
    merged = dict(target)
    loaded, partial, mismatched, unexpected, ignored = [], [], [], [], []
    for key, value in weights.items():
        if _matches(key, ignore):
            ignored.append(key)
        elif key not in target:
            unexpected.append(key)
        elif value.shape == target[key].shape:
            merged[key] = value
            loaded.append(key)
        elif _one_channel_fewer(value, target[key]):
            merged[key] = target[key].clone()
            merged[key][:, :-1] = value
            partial.append((key, tuple(value.shape), tuple(target[key].shape)))
        else:
            mismatched.append((key, tuple(value.shape), tuple(target[key].shape)))
    missing = [key for key in target if key not in weights]
    report = LoadReport(tuple(loaded), tuple(partial), tuple(mismatched), tuple(missing), tuple(unexpected),
                        tuple(ignored))
    if strict and not report.exact:
        raise CheckpointError(f"{name} does not match {type(model).__name__} (strict load):\n{report.format()}",
                              report)
    model.load_state_dict(merged, strict=True)
    return report


def load_imagenet_backbone(encoder: nn.Module, path: Union[str, os.PathLike], name: str) -> LoadReport:
    """Load ImageNet classification weights (torchvision / Swin file) into an encoder, non-strictly.

    Keys the encoder cannot use (``layer4``, ``fc``, ``classifier``, Swin's ``head``/last stage,
    ``num_batches_tracked``...) are ignored; BatchNorm statistics land in the frozen-BN buffers.

    Args:
        encoder: An encoder from :func:`aot_plus.models.encoders.build_encoder`.
        path: Local path of the weights file (nothing is downloaded).
        name: The encoder's name, which selects the ignore patterns.

    Returns:
        The :class:`LoadReport`.

    Raises:
        FileNotFoundError: The file does not exist (the message names the file the reference uses).
        CheckpointError: No encoder weight could be taken from the file.
    """
    info = encoder_info(name)
    if not Path(path).is_file():
        raise FileNotFoundError(f"ImageNet weights for encoder {name!r} not found: {path} (expected a local copy "
                                f"of {info.imagenet_file})")
    report = load_weights(encoder, path, strict=False, ignore=info.imagenet_ignored)
    if not report.loaded:
        raise CheckpointError(f"{path}: no weight matches encoder {name!r} (is it {info.imagenet_file}?)\n"
                              f"{report.format()}", report)
    surprising = [key for key in report.missing if not _matches(key, info.imagenet_absent)]
    if surprising or report.unexpected or report.skipped_mismatched:
        logger.warning("ImageNet weights %s only partly match encoder %s:\n%s", path, name, report.format())
    else:
        logger.info("Loaded ImageNet weights %s into encoder %s (%d keys).", path, name, len(report.loaded))
    return report


def save_checkpoint(path: Union[str, os.PathLike], payload: Any) -> Path:
    """Write ``payload`` with ``torch.save`` atomically (:func:`aot_plus.io.atomic_write`, the user's umask).

    Creates missing parent folders. A reader never sees a partly written file, and an interrupted write
    leaves any previous file of that name intact.

    Returns:
        The path written.
    """
    path = Path(path)
    with atomic_write(path, "wb") as stream:
        torch.save(payload, stream)
    return path
