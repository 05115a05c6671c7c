"""Command-line glue shared by the CLIs: ``--config FILE``, ``key=value`` overrides and ``--print-config``."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Optional

from aot_plus.config.loader import ConfigError, dump_config, load_config


def add_config_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Add ``--config``, ``--print-config`` and the positional ``key=value`` overrides to ``parser``."""
    parser.add_argument("--config", required=required, help="experiment YAML file (may use _base_)")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides, e.g. memory.max_recent_frames=4 or memory=emfs")


def config_from_args(args: argparse.Namespace, schema: Optional[type] = None) -> Any:
    """Load the config named by parsed CLI arguments; exit with one clear line on a config error.

    With ``--print-config`` the resolved YAML is printed to stdout and the process exits with status 0.
    """
    try:
        cfg = load_config(args.config, args.overrides, schema)
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        raise SystemExit(2) from None
    if getattr(args, "print_config", False):
        sys.stdout.write(dump_config(cfg))
        raise SystemExit(0)
    return cfg
