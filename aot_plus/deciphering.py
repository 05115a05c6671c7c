"""The memory-deciphering study: how well a frame that is *stored* in a bank of N frames is segmented again.

Usage::

    python -m aot_plus.deciphering --config CONFIG --split val --ckpt PATH --output DIR \\
        --sizes 1 2 4 8 16 [--dataset-path ROOT] [--sequences ...] [key=value ...]

For every sequence and every bank size N, a fresh session (unbounded bank, every stored frame kept) is given N
annotated frames with their ground-truth masks: N - 1 annotated frames spread evenly from the first one, then the
sequence's last annotated frame, the *target*. The target is then segmented again from that memory and its J
(mean over the objects known at the target, void excluded) is recorded. The target is the same frame for every N, and it is
also the short-term memory's frame for every N, so the only thing that changes with N is how many other frames
the long-term attention reads next to it (RMem's pilot study: a larger bank makes even a stored frame harder to
decode). One test-time view per frame (scale 1, no flip; ``eval.max_long_side`` applies). Writes
``DIR/deciphering.csv`` (sequence, N, J), ``DIR/deciphering.json`` (mean J per N) and ``DIR/deciphering.png``
(J against N). See ``docs/memory-ablations.md``.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from aot_plus.data.eval_transforms import test_time_views
from aot_plus.data.sequence import EvalSequence
from aot_plus.data.vost import VOSTEval
from aot_plus.engine import VideoSession
from aot_plus.inference.cli_args import (USER_ERRORS, add_common_arguments, add_dataset_arguments, check_checkpoint,
                                        load_experiment, parse)
from aot_plus.inference.distributed import DistInfo, configure_process, select_device
from aot_plus.inference.model_loading import load_model
from aot_plus.memory import MemoryConfig, UnboundedConfig
from aot_plus.interrupts import run_cli
from aot_plus.io.atomic import write_text
from aot_plus.io.ownership import claim_folder
from evaluation.metrics import jaccard

log = logging.getLogger("aot_plus.deciphering")

#: Annotation value of void pixels: tracked as a pseudo-object, as by the evaluator, but not scored.
VOID_ID = 255
OUTPUT_FILES = ("deciphering.csv", "deciphering.json", "deciphering.png")
#: Every stored frame stays: the bank holds exactly the N frames the study puts in.
STUDY_MEMORY = MemoryConfig(reference_frames=1, max_recent_frames=None, long_term_gap=1, policy=UnboundedConfig())


def bank_frames(annotated: Sequence[int], size: int) -> list[int]:
    """The ``size`` annotated frames stored for bank size N: N - 1 spread evenly from the first, then the target.

    Raises:
        ValueError: fewer than ``size`` annotated frames.
    """
    annotated = sorted(annotated)
    if size < 1 or size > len(annotated):
        raise ValueError(f"bank size {size} needs 1..{len(annotated)} annotated frames")
    if size == 1:
        return [annotated[-1]]
    picks = np.round(np.linspace(0, len(annotated) - 2, size - 1)).astype(int)
    if len(set(picks.tolist())) != size - 1:
        raise AssertionError(f"bank of {size} frames from {len(annotated)} annotations repeats a frame")
    return [annotated[i] for i in picks] + [annotated[-1]]


@torch.inference_mode()
def decipher(model: torch.nn.Module, cfg: Any, sequence: EvalSequence, size: int, device: torch.device) -> float:
    """J of the target frame of ``sequence`` re-segmented from a bank of ``size`` ground-truth frames."""
    frames = bank_frames(sequence.label_paths, size)
    target = frames[-1]
    objects = sequence.num_objects(target)
    scored = [k for k, original in enumerate(sequence.ids_at(target)) if k and original != VOID_ID]

    def view(index: int) -> torch.Tensor:
        ev = cfg.eval
        image = test_time_views(sequence.load_image(index), ((1.0, False),), max_long_side=ev.max_long_side,
                                align_corners=cfg.model.align_corners, mean=cfg.data.mean, std=cfg.data.std)[0]
        return image.image.to(device)

    def label(index: int) -> torch.Tensor:
        return torch.from_numpy(sequence.load_label(index).astype(np.int64)).to(device)

    session = VideoSession(model, STUDY_MEMORY, cfg.eval.session, len(sequence))
    session.add_reference(view(frames[0]), label(frames[0]), frames[0], range(1, objects + 1))
    for index in frames[1:]:
        session.step(view(index), frame_idx=index)
        session.update(label(index))
    if len(session.kept_frames) != size:
        raise AssertionError(f"bank holds {session.kept_frames}, expected {size} frames")
    probs = session.step(view(target), output_size=sequence.size, frame_idx=target)
    prediction = probs.argmax(dim=1)[0].cpu().numpy()
    truth = sequence.load_label(target)
    return float(np.mean([jaccard(truth == k, prediction == k) for k in scored])) if scored else 1.0


def write_results(output: Path, rows: list[dict], sizes: Sequence[int]) -> dict[int, float]:
    """Write the per-sequence CSV, the mean J per N (JSON) and the figure; returns the means."""
    output.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["sequence", "bank_size", "J"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(output / OUTPUT_FILES[0], buffer.getvalue())
    means = {n: float(np.mean([r["J"] for r in rows if r["bank_size"] == n])) for n in sizes}
    summary = {"bank_sizes": list(sizes), "mean_J": [means[n] for n in sizes],
               "sequences": sorted({r["sequence"] for r in rows})}
    write_text(output / OUTPUT_FILES[1], json.dumps(summary, indent=1) + "\n")
    plot_deciphering(output / OUTPUT_FILES[2], sizes, [means[n] for n in sizes])
    return means


def plot_deciphering(path: Path, sizes: Sequence[int], means: Sequence[float]) -> Path:
    """Mean J of the re-segmented stored frame against the bank size."""
    from aot_plus.viz.plots import _pyplot, _save

    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(list(sizes), [100.0 * m for m in means], marker="o")
    axis.set_xlabel("frames in the memory bank (N)")
    axis.set_ylabel("J of a stored frame (%)")
    axis.set_title("Memory deciphering")
    axis.grid(alpha=0.3)
    return _save(plt, fig, path)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m aot_plus.deciphering``."""
    parser = argparse.ArgumentParser(prog="python -m aot_plus.deciphering", description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    add_dataset_arguments(parser, ("vost",), "folder for the CSV, JSON and figure")
    parser.add_argument("--sizes", nargs="+", type=int, required=True, help="bank sizes N, e.g. 1 2 4 8 16")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (128 + the signal number after Ctrl-C or SIGTERM)."""
    return run_cli(_main, argv, survives="nothing was written")


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    cfg = load_experiment(args)
    checkpoint = check_checkpoint(parser, args.ckpt)
    sizes = sorted(set(args.sizes))
    try:
        inputs = [cfg.data.vost.root, *([checkpoint] if checkpoint else [])]
        claim_folder(args.output, "aot_plus.deciphering", inputs=inputs, force=args.force_output)
        dataset = VOSTEval(cfg.data.vost.root, args.split, frames_dir=cfg.data.vost.eval_frames_dir,
                           all_labels=True)
        names = list(args.sequences) or list(dataset.names)
        unknown = sorted(set(names) - set(dataset.names))
        if unknown:
            raise ValueError(f"--sequences {unknown} are not in the {args.dataset} {args.split} list")
        sequences = [dataset.sequence(name) for name in names]
        for sequence in sequences:
            if max(sizes) > len(sequence.label_paths) or min(sizes) < 1:
                raise ValueError(f"--sizes {max(sizes)}: sequence {sequence.name} has "
                                 f"{len(sequence.label_paths)} annotated frames (sizes must lie in 1..that)")
        configure_process(cfg.eval.seed, cfg.eval.num_threads)
        device = select_device(cfg.eval.device, DistInfo())
        model = load_model(cfg, checkpoint).to(device).eval()
        rows = []
        with logging_redirect_tqdm():
            for sequence, size in tqdm([(s, n) for s in sequences for n in sizes], desc="sequence x bank size",
                                       unit="run", dynamic_ncols=True):
                rows.append({"sequence": sequence.name, "bank_size": size,
                             "J": decipher(model, cfg, sequence, size, device)})
        means = write_results(args.output, rows, sizes)
    except USER_ERRORS as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    lines = ["| N | J (%) |", "|---|---|"] + [f"| {n} | {100.0 * means[n]:.1f} |" for n in sizes]
    sys.stdout.write(f"Memory deciphering over {len(sequences)} sequence(s), results in {args.output}:\n"
                     + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
