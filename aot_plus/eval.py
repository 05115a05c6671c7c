"""Evaluate a checkpoint on a dataset split: palette PNGs in the dataset's layout, then the metric table.

Usage::

    python -m aot_plus.eval --config CONFIG --dataset vost|davis|youtubevos|long_videos|lvos --split val \\
        --ckpt PATH --output DIR [--dataset-path ROOT] [--flip] [--scales 1.0 1.2 ...] [key=value ...]

Several processes or GPUs: ``torchrun --nproc_per_node N -m aot_plus.eval ...`` (sequences are split between
ranks by frame count). Finished sequence folders are skipped, so an interrupted run continues where it stopped;
``eval.skip_finished=false`` recomputes everything. The output folder records the checkpoint, settings and split
that produced it: a rerun with others is refused unless ``--overwrite`` (``aot_plus.inference.results_folder``). ``--ckpt none`` keeps random weights (debugging only).
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from aot_plus.inference.cli_args import (USER_ERRORS, add_common_arguments, add_dataset_arguments, check_checkpoint,
                                        load_experiment, parse, run_ranked_cli, setup_rank_logging)
from aot_plus.inference.runner import DATASETS, EvalJob, evaluate_dataset

log = logging.getLogger("aot_plus.eval")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m aot_plus.eval``."""
    parser = argparse.ArgumentParser(prog="python -m aot_plus.eval", description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    add_dataset_arguments(parser, DATASETS, "results folder")
    parser.add_argument("--overwrite", action="store_true",
                        help="the output folder holds results of another checkpoint, config or split: delete them "
                             "and compute everything again")
    parser.add_argument("--plots", action="store_true", default=None,
                        help="write memory-timeline and J-over-time PNGs to <output>/plots (eval.plots)")
    return parser


class _FrameBar:
    """A tqdm bar over the frames of the current sequence."""

    def __init__(self) -> None:
        self.bar: Optional[tqdm] = None
        self.name = ""

    def __call__(self, name: str, done: int, total: int) -> None:
        if self.bar is None or name != self.name:
            self.close()
            self.bar = tqdm(total=total, desc=name, unit="frame", leave=False, dynamic_ncols=True)
            self.name = name
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Close the current bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (128 + the signal number after Ctrl-C or SIGTERM)."""
    return run_ranked_cli(_main, argv,
                          survives="finished sequence folders are kept; the same command continues the run")


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    info, prefix = setup_rank_logging()
    cfg = load_experiment(args)
    checkpoint = check_checkpoint(parser, args.ckpt)
    job = EvalJob(args.dataset, args.split, args.output, checkpoint, tuple(args.sequences), overwrite=args.overwrite,
                  force_output=args.force_output)
    bar = _FrameBar() if info.is_main else None
    try:
        with logging_redirect_tqdm():
            report = evaluate_dataset(cfg, job, on_frame=bar, info=info)
    except USER_ERRORS as err:
        sys.stderr.write(f"{prefix}error: {err}\n")
        return 2
    finally:
        if bar is not None:
            bar.close()
    if report is not None:
        sys.stdout.write(f"Results in {args.output}\n" + report.to_text(args.split))
    return 0


if __name__ == "__main__":
    sys.exit(main())
