"""Segment your own video from a mask of its first frame: palette PNG masks and, optionally, an overlay video.

Usage::

    python -m aot_plus.predict --ckpt PATH --config CONFIG --video input.mp4|frames_dir --mask first.png \\
        --output DIR [--overlay out.mp4] [--per-object] [--flip] [--scales 1.0 1.2] [--device cuda] [key=value ...]

The mask is a palette PNG of object ids at the video's size (0 = background; ``--binary-mask`` reads a
black-and-white image as one object). ``DIR`` (new, empty, or written by predict before; ``--force-output`` for
any other) receives one ``<frame>.png`` per frame with the same ids (frame 0 included); each file appears only once
every frame is written, and nothing predict did not write is deleted. ``--per-object`` writes one folder
``<id:03d>/`` per object of 0/1 PNGs instead (SA-V layout). A thin user of
:class:`aot_plus.inference.predictor.VideoPredictor`.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from tqdm import tqdm

from aot_plus.inference.cli_args import (USER_ERRORS, add_common_arguments, check_checkpoint, load_experiment,
                                        parse)
from aot_plus.inference.distributed import DistInfo, configure_process, select_device
from aot_plus.inference.frame_source import FrameSource
from aot_plus.inference.model_loading import load_model
from aot_plus.inference.empty_watch import EmptyMaskWatch
from aot_plus.inference.predictor import VideoPredictor
from aot_plus.inference.video_io import OverlayVideoWriter, overlay, read_first_mask
from aot_plus.inference.writer import ResultsLayout, SequenceWriter
from aot_plus.interrupts import run_cli
from aot_plus.io.ownership import claim_outputs, file_key, forget_stale_files

log = logging.getLogger("aot_plus.predict")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m aot_plus.predict``."""
    parser = argparse.ArgumentParser(prog="python -m aot_plus.predict", description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--video", required=True, type=Path, help="a video file or a folder of frames")
    parser.add_argument("--mask", required=True, type=Path, help="palette PNG of object ids for the first frame")
    parser.add_argument("--output", required=True, type=Path, help="folder for the per-frame masks")
    parser.add_argument("--overlay", type=Path, help="also write the frames with coloured masks to this video")
    parser.add_argument("--binary-mask", action="store_true",
                        help="read a black-and-white or grey mask (any image format) as one object (pixels > 127)")
    parser.add_argument("--per-object", action="store_true",
                        help="one folder of 0/1 PNGs per object (SA-V layout: OUTPUT/<id:03d>/<frame>.png)")
    return parser


def predict(cfg, checkpoint: Optional[Path], video: Path, mask_path: Path, output: Path,
            overlay_path: Optional[Path] = None, show_progress: bool = False, binary_mask: bool = False,
            force_output: bool = False) -> int:
    """Segment a video and write its masks (and overlay video); returns the number of frames.

    ``output`` must be new, empty or a folder predict wrote before (see :mod:`aot_plus.io.ownership`); with
    ``force_output`` it may hold other files, which are kept. Only the masks of a previous predict run that this
    run does not rewrite are removed.

    Raises:
        FileNotFoundError, ValueError: a missing or unreadable video or mask, or a mask of the wrong size; an
            output folder or overlay file this tool may not write.
        aot_plus.io.OutputError: the disk is full or the output is read-only.
    """
    source = FrameSource(video)
    first_mask = read_first_mask(mask_path, source.first_frame_size(), source.first_frame, binary=binary_mask)
    watch = EmptyMaskWatch(np.unique(first_mask), cfg.eval.empty_mask_warn_frames, str(video))
    manifest = claim_outputs(output, "aot_plus.predict", inputs=[video, mask_path], files={"overlay": overlay_path},
                             force=force_output)
    configure_process(cfg.eval.seed, cfg.eval.num_threads)
    device = select_device(cfg.eval.device, DistInfo())
    predictor = VideoPredictor(load_model(cfg, checkpoint), cfg, device)
    per_object = cfg.eval.output_layout == "per_object"
    movie = OverlayVideoWriter(overlay_path, source.fps or cfg.eval.overlay_fps) if overlay_path else None
    bar = tqdm(total=source.length_hint, unit="frame", disable=not show_progress, dynamic_ncols=True)
    layout = ResultsLayout(output.parent)
    count = 0
    try:
        predictor.init_state(source)
        predictor.add_label_map(0, first_mask)
        with SequenceWriter(layout, output.name, threads=cfg.eval.writer_threads, merge=True) as writer:
            for result in predictor.propagate_in_video():
                writer.write_result(predictor.frame_name(result.frame_idx), result, per_object)
                if result.frame_idx:
                    watch.update(result.frame_idx, result.label)
                if movie is not None:
                    movie.write(overlay(predictor.current_image, result.label, cfg.eval.overlay_alpha))
                count += 1
                bar.update(1)
        if movie is not None:
            movie.close()
    except BaseException:
        if movie is not None:
            movie.abort()
        raise
    finally:
        predictor.close()
        bar.close()
    forget_stale_files(output, manifest, writer.names,
                       overlay=file_key(overlay_path) if overlay_path else manifest.get("overlay"))
    return count


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (128 + the signal number after Ctrl-C or SIGTERM)."""
    return run_cli(_main, argv, survives="no mask or overlay file was written")


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    if args.per_object:
        args.overrides.append("eval.output_layout=per_object")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    cfg = load_experiment(args)
    checkpoint = check_checkpoint(parser, args.ckpt)
    try:
        count = predict(cfg, checkpoint, args.video, args.mask, args.output, args.overlay, show_progress=True,
                        binary_mask=args.binary_mask, force_output=args.force_output)
    except USER_ERRORS as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    log.info("wrote %d masks to %s%s", count, args.output, f" and the overlay {args.overlay}" if args.overlay else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
