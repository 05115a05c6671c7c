"""Argument handling shared by ``python -m aot_plus.eval`` and ``python -m aot_plus.predict``.

``key=value`` config overrides may appear anywhere on the command line, also after ``--scales 1.0 1.2``: they
are taken out before argparse sees the options (a token is an override when it is not the value of a
one-value option and its part before ``=`` is a dotted name).
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from aot_plus.config.cli import add_config_arguments, config_from_args
from aot_plus.inference.benchmarks import BENCHMARKS
from aot_plus.inference.distributed import DistInfo, dist_info_from_env
from aot_plus.interrupts import run_cli
from aot_plus.io.atomic import OutputError
from aot_plus.models.checkpoint import CheckpointError
from evaluation import EvaluationError

_OVERRIDE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*=")

#: Errors caused by bad input (files, config, data): reported as one ``error: ...`` line, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, CheckpointError, EvaluationError, OutputError)

#: ``--ckpt`` value that keeps the freshly initialised weights (debugging and tests only).
NO_CHECKPOINT = "none"


def split_overrides(argv: Sequence[str], parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """Separate ``key=value`` overrides from the other arguments, keeping both in order.

    The value of an option that takes exactly one value (``--config a=b.yaml``) is never an override.
    """
    single = {opt for action in parser._actions if action.nargs is None and action.option_strings
              for opt in action.option_strings}
    rest: list[str] = []
    overrides: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token in single:
            rest.append(token)
            value = next(tokens, None)
            if value is not None:
                rest.append(value)
            continue
        (overrides if _OVERRIDE.match(token) else rest).append(token)
    return rest, overrides


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--print-config``, ``--ckpt``, ``--device`` and the test-time augmentation flags."""
    add_config_arguments(parser)
    parser.add_argument("--ckpt", required=True,
                        help=f"checkpoint file (state dict, training or EMA file); '{NO_CHECKPOINT}' keeps the "
                             "random initialisation (debugging only)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: eval.device, 'auto')")
    parser.add_argument("--flip", action="store_true", default=None,
                        help="also run horizontally flipped copies and average the probabilities")
    parser.add_argument("--scales", type=float, nargs="+", help="test-time scale factors, e.g. 1.0 1.2")
    parser.add_argument("--compile", action="store_true", default=None,
                        help="torch.compile the frame step (eval.compile=true; needs memory.storage=static)")
    parser.add_argument("--force-output", action="store_true",
                        help="write into an output folder that holds other files or overlaps an input (files of "
                             "the names written are replaced; nothing else is deleted)")


def add_dataset_arguments(parser: argparse.ArgumentParser, datasets: Sequence[str], output_help: str) -> None:
    """``--dataset``, ``--split``, ``--output``, ``--dataset-path`` and ``--sequences`` of the dataset CLIs."""
    if len(datasets) == 1:
        parser.add_argument("--dataset", default=datasets[0], choices=datasets, help=f"default {datasets[0]}")
    else:
        parser.add_argument("--dataset", required=True, choices=datasets)
    parser.add_argument("--split", default="val", help="split / list name (default: val)")
    parser.add_argument("--output", required=True, type=Path, help=output_help)
    parser.add_argument("--dataset-path", help="dataset root (default: the config's data.<dataset> root)")
    parser.add_argument("--sequences", nargs="+", default=(), help="only these sequences")


def parse(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """Parse ``argv`` (default: ``sys.argv[1:]``), collecting overrides and turning flags into overrides."""
    rest, overrides = split_overrides(sys.argv[1:] if argv is None else argv, parser)
    args = parser.parse_args(rest)
    if args.overrides:
        parser.error(f"unrecognised arguments: {' '.join(args.overrides)} (overrides are written key=value)")
    if args.flip:
        overrides.append("eval.flip=true")
    if args.scales:
        overrides.append("eval.scales=[" + ", ".join(repr(s) for s in args.scales) + "]")
    if args.device:
        overrides.append(f"eval.device={args.device}")
    if args.compile:
        overrides.append("eval.compile=true")
    if getattr(args, "plots", None):
        overrides.append("eval.plots=true")
    if getattr(args, "dataset_path", None):
        overrides.append(f"{BENCHMARKS[args.dataset].root_key}={args.dataset_path}")
    args.overrides = overrides
    return args


def load_experiment(args: argparse.Namespace):
    """The typed experiment config of parsed arguments (exits with one line on a config error)."""
    return config_from_args(args)


def check_checkpoint(parser: argparse.ArgumentParser, ckpt: str) -> Optional[Path]:
    """The checkpoint path, None for ``none``; a missing file ends the program with one clear line."""
    if ckpt.lower() == NO_CHECKPOINT:
        return None
    path = Path(ckpt)
    if not path.is_file():
        parser.exit(2, f"error: checkpoint file {path} does not exist (--ckpt)\n")
    return path


def run_ranked_cli(main: Callable[[Optional[Sequence[str]]], int], argv: Optional[Sequence[str]],
                   survives: str) -> int:
    """Run a CLI that torchrun may start on several ranks: a stop is one line, prefixed with the rank after rank 0.

    Returns:
        ``main``'s status, or 128 + the signal number after Ctrl-C or SIGTERM.
    """
    rank = dist_info_from_env().rank
    return run_cli(main, argv, prefix=f"[rank {rank}] " if rank else "", survives=survives)


def setup_rank_logging() -> tuple[DistInfo, str]:
    """Log INFO lines to stderr, each prefixed with the rank when several processes run.

    Returns:
        The process's ranks and the prefix (``"[rank r] "``, or empty for a single process) for other messages.
    """
    info = dist_info_from_env()
    prefix = f"[rank {info.rank}] " if info.world_size > 1 else ""
    logging.basicConfig(level=logging.INFO, format=f"{prefix}%(message)s", stream=sys.stderr)
    return info, prefix
