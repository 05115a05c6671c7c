"""Run :func:`aot_plus.train.loop.train` under torchrun and write this rank's result to ``OUT/rank<r>.json``.

Usage: ``torchrun --nproc_per_node 2 ddp_driver.py OUT CONFIG [key=value ...]`` (used by test_train_loop.py).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from aot_plus.config import load_config
from aot_plus.train.loop import train


def main() -> None:
    """Train with the given config and overrides, then dump the rank's losses and weight digest."""
    out, config, overrides = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    result = train(load_config(config, overrides))
    rank = int(os.environ.get("RANK", "0"))
    payload = {"digest": result.weights_digest, "losses": list(result.losses), "end_step": result.end_step}
    (out / f"rank{rank}.json").write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
