"""A synthetic dataset in the VOST layout, for tests, the quickstart and demos.

    python -m aot_plus.data.synthetic --out DIR --sequences N --frames T [--val-frames V] --seed S [--height H --width W]

writes ``ImageSets/{train,val}.txt``, ``JPEGImages_10fps/<seq>/`` (all T (V) frames, stems 00000, 00003, ...),
``JPEGImages/<seq>/`` and ``Annotations/<seq>/`` (every second frame, as VOST's annotated 5 fps frames; palette
PNGs with the DAVIS colour map, 255 = void) and ``synthetic.json`` (the settings, each sequence's events and their
timeline).
Each sequence depends only on (seed, its index); the dataset is built in a temporary folder and moved into
place, so DIR is never half-written.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import cv2
import numpy as np

from aot_plus.data.io import davis_palette, write_label
from aot_plus.data.synthetic_scene import EXTRA_EVENT_PROB, make_scene, render_frame
from aot_plus.io.atomic import atomic_dir

logger = logging.getLogger(__name__)

EVENTS = tuple(EXTRA_EVENT_PROB)
"""Kinds of event (``aot_plus/data/README.md``); each sequence has one main event, drawn uniformly, and others."""
VERBS = {"split": ("cut", "tear", "slice", "break"), "recolour": ("cook", "paint", "fry", "dye"),
         "retexture": ("grate", "peel", "coat", "crumb"), "reshape": ("knead", "roll", "fold", "squeeze"),
         "shrink": ("eat", "melt", "dry", "squash"), "cut": ("trim", "chop", "cut", "carve"),
         "occlusion": ("wrap", "cover", "hold", "grab"), "absence": ("fetch", "carry", "return", "swap"),
         "exit": ("move", "remove", "take", "push"), "distractor": ("add", "pick", "sort", "stack"),
         "camera": ("film", "pan", "tilt", "follow")}
assert set(VERBS) == set(EVENTS)
NOUNS = ("tomato", "onion", "bread", "paper", "dough", "foil", "egg", "cheese", "apple", "cloth")
FRAME_STEP = 3
"""Stem increment between consecutive 10 fps frames (VOST numbers frames of the 30 fps video)."""
JPEG_QUALITY = 92


@dataclass(frozen=True)
class SyntheticSequence:
    """What was generated for one sequence."""

    name: str
    split: str
    events: tuple[str, ...]
    objects: int
    frames: int
    timeline: tuple[dict, ...]


def sequence_name(index: int, rng: np.random.Generator, primary: str) -> str:
    """A VOST-like name ``<number>_<verb>_<noun>``."""
    return f"{index:04d}_{rng.choice(VERBS[primary])}_{rng.choice(NOUNS)}"


def write_sequence(root: Path, index: int, seed: int, frames: int, height: int, width: int,
                   split: str) -> SyntheticSequence:
    """Render sequence ``index`` of the dataset with ``seed`` and write its files under ``root``."""
    rng = np.random.default_rng([seed, index])
    primary = EVENTS[int(rng.integers(len(EVENTS)))]
    name = sequence_name(index, rng, primary)
    scene = make_scene(rng, frames, height, width, primary)
    dirs = {key: root / key / name for key in ("JPEGImages", "JPEGImages_10fps", "Annotations")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    palette = davis_palette()
    for t in range(frames):
        rgb, label = render_frame(scene, t, rng)
        ok, encoded = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f"OpenCV could not encode frame {t} of {name}")
        stem = f"{t * FRAME_STEP:05d}"
        (dirs["JPEGImages_10fps"] / f"{stem}.jpg").write_bytes(encoded.tobytes())
        if t % 2 == 0:
            (dirs["JPEGImages"] / f"{stem}.jpg").write_bytes(encoded.tobytes())
            write_label(dirs["Annotations"] / f"{stem}.png", label, palette)
    objects = sum(1 for blob in scene.blobs if blob.obj_id)
    return SyntheticSequence(name, split, tuple(scene.events), objects, frames, tuple(scene.timeline))


def split_of(index: int, count: int, val_fraction: float) -> list[str]:
    """Lists a sequence goes to: the last round(count * val_fraction) (at least 1) are ``val``; a single
    sequence goes to both lists."""
    if count == 1:
        return ["train", "val"]
    n_val = min(max(1, round(count * val_fraction)), count - 1)
    return ["val"] if index >= count - n_val else ["train"]


def generate_dataset(out: Union[str, os.PathLike], sequences: int = 20, frames: int = 24, seed: int = 0,
                     height: int = 240, width: int = 320, val_fraction: float = 0.25,
                     overwrite: bool = False, val_frames: Optional[int] = None,
                     only: Optional[str] = None) -> list[SyntheticSequence]:
    """Write a synthetic VOST-layout dataset to ``out``.

    Args:
        out: destination folder (must not exist, unless ``overwrite``).
        sequences: number of sequences.
        frames: 10 fps frames per sequence (annotated: every second one, from the first).
        seed: dataset seed.
        height: frame height.
        width: frame width.
        val_fraction: share of sequences in ``val.txt``.
        overwrite: replace an existing ``out``.
        val_frames: frames of the ``val`` sequences (None: ``frames``); e.g. short training videos and long
            validation videos whose memory banks must evict.
        only: write only the sequences of this split (``train`` or ``val``) and its list; the sequences are
            the same as in the full dataset (e.g. the demo's validation videos without the training ones).

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is off.
        ValueError: a count or size is too small.
    """
    val_frames = frames if val_frames is None else val_frames
    if only not in (None, "train", "val"):
        raise ValueError(f"only must be 'train' or 'val', got {only!r}")
    if sequences < 1 or min(frames, val_frames) < 2 or height < 32 or width < 32:
        raise ValueError(f"need sequences >= 1, frames >= 2 and a size of at least 32x32, got {sequences}, "
                         f"{min(frames, val_frames)}, {height}x{width}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists (pass --overwrite to replace it)")
    if out.exists() and not (out / "synthetic.json").is_file():
        raise FileExistsError(f"{out} is not a synthetic dataset (no synthetic.json); --overwrite only replaces "
                              "folders this generator wrote")
    with atomic_dir(out) as tmp:  # the user's umask applies (mkdtemp would make the folder 0700)
        made, lists = [], {"train": [], "val": []}
        for index in range(sequences):
            splits = split_of(index, sequences, val_fraction)
            if only is not None and only not in splits:
                continue
            length = val_frames if "val" in splits else frames
            seq = write_sequence(tmp, index, seed, length, height, width, "+".join(splits))
            made.append(seq)
            for split in splits:
                lists[split].append(seq.name)
        (tmp / "ImageSets").mkdir()
        for split, names in lists.items():
            if only is not None and split != only:
                continue
            (tmp / "ImageSets" / f"{split}.txt").write_text("\n".join(names))
        info = {"seed": seed, "sequences": sequences, "frames": frames, "val_frames": val_frames,
                "height": height, "width": width, "only": only,
                "val_fraction": val_fraction, "items": [dataclasses.asdict(seq) for seq in made]}
        (tmp / "synthetic.json").write_text(json.dumps(info, indent=1))
    return made


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m aot_plus.data.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="destination folder")
    parser.add_argument("--sequences", type=int, default=20, help="number of sequences (default 20)")
    parser.add_argument("--frames", type=int, default=24, help="10 fps frames per sequence (default 24)")
    parser.add_argument("--val-frames", type=int, default=None,
                        help="frames per validation sequence (default: --frames)")
    parser.add_argument("--only", choices=("train", "val"), default=None,
                        help="write only this split's sequences (the same ones as in the full dataset)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    parser.add_argument("--height", type=int, default=240, help="frame height (default 240)")
    parser.add_argument("--width", type=int, default=320, help="frame width (default 320)")
    parser.add_argument("--val-fraction", type=float, default=0.25, help="share of val sequences (default 0.25)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        made = generate_dataset(args.out, args.sequences, args.frames, args.seed, args.height, args.width,
                                args.val_fraction, args.overwrite, args.val_frames, args.only)
    except (FileExistsError, ValueError) as err:
        parser.error(str(err))
    n_val = sum("val" in seq.split for seq in made)
    logger.info("wrote %d sequences (%d train, %d val) of %d frames (val %d) at %dx%d to %s", len(made),
                len(made) - n_val + (len(made) == 1), n_val, args.frames, args.val_frames or args.frames,
                args.width, args.height, args.out)
    return 0


if __name__ == "__main__":
    from aot_plus.interrupts import run_cli
    raise SystemExit(run_cli(main))
