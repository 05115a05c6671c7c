"""Write a model file for shipping: the weights of a training or EMA checkpoint, floating tensors in float16.

Usage::

    python scripts/export_weights.py --ckpt RUN/ema/step_0005000.pth --out checkpoints/demo/model.pth [--note TEXT]

The output is ``{"state_dict": ..., "note": TEXT}`` (written atomically): the layout every loader of this
repository reads (``aot_plus.eval --ckpt``, ``aot_plus.predict --ckpt``); float16 weights are cast back to the
model's float32 on loading. Integer buffers (BatchNorm's ``num_batches_tracked``) keep their type.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Mapping, Optional, Sequence

import torch

from aot_plus.models.checkpoint import CheckpointError, load_checkpoint_file, save_checkpoint


def half_precision(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A copy of ``state_dict`` with every floating tensor in float16 (other tensors unchanged)."""
    return {key: value.detach().to(torch.float16) if value.is_floating_point() else value.detach().clone()
            for key, value in state_dict.items()}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", type=Path, required=True, help="training or EMA checkpoint (or a model file)")
    parser.add_argument("--out", type=Path, required=True, help="model file to write")
    parser.add_argument("--note", default="", help="text stored beside the weights (e.g. how they were trained)")
    args = parser.parse_args(argv)
    try:
        weights = load_checkpoint_file(args.ckpt)
    except (FileNotFoundError, CheckpointError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    if args.out.resolve() == args.ckpt.resolve():
        sys.stderr.write(f"error: --out {args.out} is the input file; choose another name\n")
        return 2
    path = save_checkpoint(args.out, {"state_dict": half_precision(weights), "note": args.note})
    sys.stdout.write(f"wrote {path} ({path.stat().st_size / 2 ** 20:.1f} MiB, {len(weights)} tensors)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
