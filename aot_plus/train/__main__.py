"""Command line: ``python -m aot_plus.train --config CONFIG [key=value ...] [--resume auto|PATH]``.

Runs as one process or under ``torchrun --nproc_per_node N`` (one process per GPU, or CPU processes with gloo).
A bad config key, a missing dataset folder, pretrained file or resume checkpoint stops the run at start-up with
one ``error: ...`` line and exit status 2. Ctrl-C or SIGTERM (every rank under torchrun) stops after the current
step, which is saved as a checkpoint: ``--resume auto`` then continues exactly where the run stopped (exit status
128 + the signal number).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Optional, Sequence

from aot_plus.config.cli import add_config_arguments, config_from_args
from aot_plus.interrupts import run_cli
from aot_plus.io.atomic import OutputError


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse the arguments, load the config and train; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m aot_plus.train", description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.add_argument("--resume", default=None, metavar="auto|PATH",
                        help="continue from the newest checkpoint of the run folder (auto) or from a file")
    parser.add_argument("--force-output", action="store_true",
                        help="use a train.output_dir that holds other files or lies inside the training data")
    args = parser.parse_args(argv)
    rank = int(os.environ.get("RANK", "0") or 0)
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING,
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s")
    cfg = config_from_args(args)
    from aot_plus.train.checkpoint import ResumeError
    from aot_plus.train.loop import train
    from aot_plus.train.setup import StartupError
    try:
        result = run_cli(train, cfg, args.resume, args.force_output, prefix=f"[rank {rank}] " if rank else "")
    except (StartupError, ResumeError, OutputError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    if isinstance(result, int):  # interrupted: the line is written, this is the exit status
        return result
    logging.getLogger(__name__).info("finished at step %d; run folder %s", result.end_step, result.run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
