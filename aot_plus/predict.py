"""Segment your own video from a mask of its first frame: palette PNG masks and, optionally, an overlay video.

Usage::

    python -m aot_plus.predict --ckpt PATH --config CONFIG --video input.mp4|frames_dir --mask first.png \\
        --output DIR [--overlay out.mp4] [--flip] [--scales 1.0 1.2] [--device cuda] [key=value ...]

The mask is a palette (or grey-scale) PNG of object ids at the video's size (0 = background). ``DIR`` receives
one ``<frame>.png`` per frame with the same ids (frame 0 included); it appears only once every frame is written.
"""
from __future__ import annotations

import argparse
import collections
import logging
import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np
from tqdm import tqdm

from aot_plus.inference.cli_args import (USER_ERRORS, add_common_arguments, check_checkpoint, load_experiment,
                                        parse)
from aot_plus.inference.distributed import DistInfo, configure_process, select_device
from aot_plus.inference.model_loading import load_model
from aot_plus.inference.segmenter import VideoSegmenter
from aot_plus.inference.empty_watch import EmptyMaskWatch
from aot_plus.inference.video_io import OverlayVideoWriter, VideoSource, overlay, read_mask
from aot_plus.inference.writer import ResultsLayout, SequenceWriter

log = logging.getLogger("aot_plus.predict")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m aot_plus.predict``."""
    parser = argparse.ArgumentParser(prog="python -m aot_plus.predict", description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--video", required=True, type=Path, help="a video file or a folder of frames")
    parser.add_argument("--mask", required=True, type=Path, help="palette PNG of object ids for the first frame")
    parser.add_argument("--output", required=True, type=Path, help="folder for the per-frame masks")
    parser.add_argument("--overlay", type=Path, help="also write the frames with coloured masks to this video")
    return parser


def predict(cfg, checkpoint: Optional[Path], video: Path, mask_path: Path, output: Path,
            overlay_path: Optional[Path] = None, show_progress: bool = False) -> int:
    """Segment a video and write its masks (and overlay video); returns the number of frames.

    Raises:
        FileNotFoundError, ValueError: a missing or unreadable video or mask, or a mask of the wrong size.
    """
    source = VideoSource(video)
    first_mask = read_mask(mask_path)
    watch = EmptyMaskWatch(np.unique(first_mask), cfg.eval.empty_mask_warn_frames, str(video))
    configure_process(cfg.eval.seed, cfg.eval.num_threads)
    device = select_device(cfg.eval.device, DistInfo())
    segmenter = VideoSegmenter(load_model(cfg, checkpoint), cfg, device)
    pending: collections.deque = collections.deque()

    def frames() -> Iterator[np.ndarray]:
        for stem, rgb in source:
            if not pending and rgb.shape[:2] != first_mask.shape:
                raise ValueError(f"mask {mask_path} is {first_mask.shape[1]}x{first_mask.shape[0]} but the "
                                 f"frames of {video} are {rgb.shape[1]}x{rgb.shape[0]} (width x height)")
            pending.append((stem, rgb))
            yield rgb

    movie = OverlayVideoWriter(overlay_path, source.fps or cfg.eval.overlay_fps) if overlay_path else None
    bar = tqdm(total=source.num_frames or None, unit="frame", disable=not show_progress, dynamic_ncols=True)
    layout = ResultsLayout(output.parent)
    count = 0
    try:
        with SequenceWriter(layout, output.name, threads=cfg.eval.writer_threads) as writer:
            for result in segmenter.run(frames(), {0: first_mask}, max(source.num_frames, 1)):
                stem, rgb = pending.popleft()
                writer.write(stem, result.mask)
                if count:
                    watch.update(count, result.mask)
                if movie is not None:
                    movie.write(overlay(rgb, result.mask, cfg.eval.overlay_alpha))
                count += 1
                bar.update(1)
        if movie is not None:
            movie.close()
    except BaseException:
        if movie is not None:
            movie.abort()
        raise
    finally:
        bar.close()
        layout.remove_partial_root()
    return count


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parse(parser, argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    cfg = load_experiment(args)
    checkpoint = check_checkpoint(parser, args.ckpt)
    try:
        count = predict(cfg, checkpoint, args.video, args.mask, args.output, args.overlay, show_progress=True)
    except USER_ERRORS as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    log.info("wrote %d masks to %s%s", count, args.output, f" and the overlay {args.overlay}" if args.overlay else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
