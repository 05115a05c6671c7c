"""Command line: ``python -m evaluation --results_path R --dataset_path D [--set val] [--re] [--workers N]
[--metric j|jf|lvos] [--unseen_list FILE]``.

Writes ``global_results-<set>.csv`` and ``per-sequence_results-<set>.csv`` into R (or reuses them when
both exist, unless ``--re``), prints both tables on stdout and shows progress on stderr. Bad input ends
with one ``error: ...`` line on stderr and exit status 2. Ctrl-C or SIGTERM stops the workers and ends with one
``interrupted by SIG...`` line and exit status 128 + the signal number; the CSVs are written only when complete,
so an interrupted run leaves the results folder as it was.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Optional, Sequence

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from evaluation.errors import EvaluationError
from evaluation.runner import EvaluationOptions, run

#: Exit status for bad input (same as argparse's usage errors).
EXIT_BAD_INPUT = 2
_MAX_DEFAULT_WORKERS = 8


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the evaluation CLI."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation",
        description="VOST J / J_tr (default), DAVIS J&F or LVOS J&F of palette-PNG results; writes the official "
        "CSVs.",
    )
    parser.add_argument("--results_path", required=True, help="folder with one folder of PNGs per sequence")
    parser.add_argument("--dataset_path", required=True,
                        help="dataset root (VOST, DAVIS 2017 / Long Videos layout, or the LVOS split folder)")
    parser.add_argument("--set", default="val",
                        help="split: reads ImageSets/<set>.txt, for LVOS <set>_meta.json (default: val)")
    parser.add_argument("--re", action="store_true", help="recompute even if both CSV files exist")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, _MAX_DEFAULT_WORKERS),
        help="processes scoring sequences in parallel (default: CPU count, at most 8)",
    )
    parser.add_argument(
        "--metric", choices=("j", "jf", "lvos"), default="j",
        help="j: VOST J and J_tr; jf: DAVIS / Long Videos J&F; lvos: LVOS J&F and V, seen / unseen (default: j)",
    )
    parser.add_argument(
        "--unseen_list",
        help="LVOS: file naming the unseen videos, one per line (default: unseen_videos.txt in the split folder "
        "when present; without one every video counts as seen)",
    )
    parser.add_argument(
        "--layout",
        choices=("auto", "vost", "davis"),
        default="auto",
        help="vost: Annotations/<seq>, ImageSets/<set>.txt; davis: Annotations/<res>/<seq>, ImageSets/2017/<set>.txt",
    )
    parser.add_argument("--resolution", default="480p", help="DAVIS resolution folder (default: 480p)")
    return parser


class _ProgressBar:
    """Adapts the runner's progress callback to a tqdm bar created on the first call."""

    def __init__(self) -> None:
        self._bar: Optional[tqdm] = None

    def __call__(self, done: int, total: int, name: Optional[str]) -> None:
        if self._bar is None:
            self._bar = tqdm(total=total, unit="seq", desc="Evaluating", dynamic_ncols=True)
        if name is not None:
            self._bar.set_postfix_str(name, refresh=False)
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Close the bar if it was opened."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class _Stopped(KeyboardInterrupt):
    """SIGTERM, raised where the program is, like Ctrl-C's KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped(signum)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (128 + the signal number after Ctrl-C or SIGTERM)."""
    in_main_thread = threading.current_thread() is threading.main_thread()  # signals reach only that one
    previous = signal.signal(signal.SIGTERM, _raise_stopped) if in_main_thread else None
    try:
        return _main(argv)
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, _Stopped) else signal.SIGINT
        sys.stderr.write(f"interrupted by {signal.Signals(signum).name}; the CSVs are written only by a complete "
                         "run: rerun the same command\n")
        return 128 + signum
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: Optional[Sequence[str]]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.workers < 1:
        sys.stderr.write(f"error: --workers must be at least 1, got {args.workers}\n")
        return EXIT_BAD_INPUT
    if args.unseen_list is not None and args.metric != "lvos":
        sys.stderr.write("error: --unseen_list applies to --metric lvos only\n")
        return EXIT_BAD_INPUT
    options = EvaluationOptions(
        subset=args.set, metric=args.metric, layout=args.layout, resolution=args.resolution, workers=args.workers,
        unseen_list=args.unseen_list,
    )
    bar = _ProgressBar()
    try:
        with logging_redirect_tqdm():
            report, _ = run(args.results_path, args.dataset_path, options, recompute=args.re, progress=bar)
    except EvaluationError as exc:
        bar.close()
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    finally:
        bar.close()
    sys.stdout.write(report.to_text(args.set))
    return 0


if __name__ == "__main__":
    sys.exit(main())
