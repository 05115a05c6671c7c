"""Time our inference against the reference RMem code in one process, on the same weights and frames.

R50-DeAOT-L + RMem (bank ``1 + --max-recent``, fixed gap ``--gap``), ``--objects`` objects, on the CPU. Both networks
get the same deterministic weights (the parity fixtures' fill rule, ``aot_plus.parity.fill_weights``, applied to
our model; its state_dict is then loaded into the reference model with strict key matching) and the same
synthetic video (two coloured boxes moving over a smooth background, plus noise). Frame 0 is the reference frame
with the boxes as objects; every later frame is propagated (logits at the input size, softmax, argmax) and the
memory is updated with a label: by default (``--feed reference``) both memories get the reference's argmax, the
teacher forcing of the parity harness, so that one near-tie pixel whose argmax flips cannot make the two memories
drift apart and the probability check measures float noise; ``--feed own`` gives each its own argmax, as an
evaluator does. Either way each implementation computes its own softmax and argmax and writes its own memory, so
the work timed is the same.

The two implementations advance frame by frame in turn inside one process, and the one that goes first alternates
each frame, so the load of a shared machine falls on both alike. A frame's time is propagate + softmax + argmax +
memory update, each implementation's own (inputs are normalised beforehand, outside the timing). Reported: the median ms/frame of each after
``--warmup`` frames, the ratio reference / ours, the same over the frames where the bank is full (the policy
evicts), and as a sanity check the largest absolute difference of the probabilities, the label pixels that differ
and whether the kept long-term frames agree.

The reference is a local checkout of Restricted-Memory/RMem (``--reference PATH``, the folder that holds
``aot_plus/``); it is imported only when the benchmark runs, never when this module is imported, and no file of it
is changed (no bytecode is written into it). What is adapted at run time, in this process only:

- ``AOTEngine.assign_identity`` builds its all-zero ignore mask with ``device=cuda`` when called without one (the
  reference frame); it is wrapped to pass an all-zero mask on the mask's own device instead (same values);
- its config constructor creates ``./results/...`` folders: it runs with a temporary folder (removed afterwards)
  as the working directory;
- where ``timm`` or ``torchvision`` cannot be imported (our CPU environment has neither), small stand-in modules
  provide the two names the model files import: ``timm.models.layers.trunc_normal_`` (only used to initialise
  weights, which the strict load replaces) and ``torchvision.transforms.functional.resize`` /
  ``InterpolationMode`` (only used by the mask-input encoder, which R50-DeAOT-L does not use; calling it raises);
- its eviction debug prints are captured (still executed, and timed) instead of flooding the terminal.

Example (see the README, Benchmarks)::

    OMP_WAIT_POLICY=PASSIVE python scripts/bench_reference.py --reference /tmp/rmem_ref --threads 2 \\
        --size 241x433 --objects 2 --frames 100 --out outputs/bench_reference.json
"""
from __future__ import annotations

import argparse
import contextlib
import enum
import importlib
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench import machine_info, parse_size  # noqa: E402
from aot_plus.config import load_config  # noqa: E402
from aot_plus.engine.config import SessionConfig  # noqa: E402
from aot_plus.engine.session import VideoSession  # noqa: E402
from aot_plus.io.atomic import write_text  # noqa: E402
from aot_plus.models.build import build_model  # noqa: E402
from aot_plus.parity import fill_weights, normalize_frame  # noqa: E402

logger = logging.getLogger("bench_reference")
CONFIGS = REPO / "configs"
#: Our model config and the reference's (stage, model) of the same network.
OUR_MODEL = "rmem_r50_deaotl"
REFERENCE_STAGE, REFERENCE_MODEL = "pre_vost_2", "r50_deaotl"
#: Files that identify a checkout of the reference (relative to ``--reference``).
REFERENCE_MARKERS = ("aot_plus/networks/engines/deaot_engine.py", f"aot_plus/configs/{REFERENCE_STAGE}.py")
#: The parity fixtures' scale adjustment of the weight fill (decisive logits, a temporal PE that matters).
SCALE_RULE = (("conv_out.weight", 10.0), ("pos_emb", 10.0))


def check_reference(path: Optional[Path]) -> Path:
    """``path`` if it is a checkout of the reference; otherwise a one-line ``SystemExit``."""
    if path is None:
        raise SystemExit("--reference PATH is required: a local checkout of Restricted-Memory/RMem (e.g. git clone "
                         "https://github.com/Restricted-Memory/RMem)")
    missing = [marker for marker in REFERENCE_MARKERS if not (path / marker).is_file()]
    if missing:
        found = "no such folder" if not path.is_dir() else f"no {missing[0]}"
        raise SystemExit(f"--reference {path}: expected a checkout of Restricted-Memory/RMem (the folder holding "
                         f"{REFERENCE_MARKERS[0]}), found {found}")
    return path


def synthetic_video(frames: int, size: tuple[int, int], objects: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``frames`` RGB uint8 frames ``[T, H, W, 3]`` of ``objects`` coloured boxes moving over a smooth background
    with noise, and the label map ``[H, W]`` (0 background, 1..K) of frame 0."""
    height, width = size
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    video = np.empty((frames, height, width, 3), np.uint8)
    box_h, box_w = height // 4, width // (2 * objects + 2)
    starts = [(height // 4 + int(rng.integers(0, height // 4)), (2 * k + 1) * box_w) for k in range(objects)]
    colours = rng.integers(40, 256, (objects, 3))
    first_label = np.zeros((height, width), np.uint8)
    for t in range(frames):
        phase = 2 * np.pi * t / 30
        background = np.stack([96 + 64 * np.sin(rows / 37 + phase), 96 + 64 * np.cos(cols / 53 - phase),
                               np.full_like(rows, 80)], axis=-1)
        image = background + rng.normal(0, 8, (height, width, 3))
        for k, (top, left) in enumerate(starts):
            top = int(top + 0.1 * height * np.sin(phase + k))
            left = int(left + 0.1 * width * np.cos(phase + k))
            image[top: top + box_h, left: left + box_w] = colours[k]
            if t == 0:
                first_label[top: top + box_h, left: left + box_w] = k + 1
        video[t] = np.clip(image, 0, 255).astype(np.uint8)
    return video, first_label


def build_ours(gap: int, max_recent: int, seed: int) -> tuple[torch.nn.Module, Any]:
    """Our R50-DeAOT-L filled with the fixtures' rule (``seed``) and its RMem memory config."""
    cfg = load_config(CONFIGS / "models" / f"{OUR_MODEL}.yaml",
                      ["memory=rmem", f"memory.long_term_gap={gap}", "memory.reference_frames=1",
                       f"memory.max_recent_frames={max_recent}", "eval.device=cpu"])
    model = build_model(cfg.model)
    fill_weights(model, seed, SCALE_RULE)
    return model.eval(), cfg


def _trunc_normal_stand_in(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                           b: float = 2.0) -> torch.Tensor:
    return torch.nn.init.trunc_normal_(tensor, mean, std, a, b)


def _resize_stand_in(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("torchvision stand-in: the mask-input encoder is not part of this benchmark")


def _install_stand_ins() -> list[str]:
    """Register stand-ins for ``timm`` / ``torchvision`` where they cannot be imported (module doc); their names."""
    installed = []
    try:
        importlib.import_module("timm.models.layers")
    except Exception:  # missing, or present but unusable (e.g. torchvision built for another torch)
        for name in ("timm", "timm.models", "timm.models.layers"):
            sys.modules[name] = types.ModuleType(name)
        sys.modules["timm.models.layers"].trunc_normal_ = _trunc_normal_stand_in
        installed.append("timm")
    try:
        importlib.import_module("torchvision.transforms")
    except Exception:
        for name in ("torchvision", "torchvision.transforms", "torchvision.transforms.functional"):
            sys.modules[name] = types.ModuleType(name)
        sys.modules["torchvision.transforms"].functional = sys.modules["torchvision.transforms.functional"]
        sys.modules["torchvision.transforms"].InterpolationMode = enum.Enum("InterpolationMode", "NEAREST BILINEAR")
        sys.modules["torchvision.transforms.functional"].resize = _resize_stand_in
        installed.append("torchvision")
    return installed


@contextlib.contextmanager
def _working_directory(path: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def build_reference(checkout: Path, state_dict: dict[str, torch.Tensor], gap: int, max_recent: int) -> tuple[Any, list[str]]:
    """The reference's evaluation engine (``DeAOTInferEngine``) over its R50-DeAOT-L with ``state_dict`` loaded
    strictly, FORMER/LATTER memory lengths 1 / ``max_recent`` and the long-term gap ``gap``; the stand-ins used."""
    stand_ins = _install_stand_ins()
    sys.path.insert(0, str(checkout / "aot_plus"))
    sys.dont_write_bytecode = True  # leave the checkout as it is (no __pycache__ folders)
    try:
        with tempfile.TemporaryDirectory(prefix="bench_reference_") as scratch, _working_directory(scratch):
            cfg = importlib.import_module(f"configs.{REFERENCE_STAGE}").EngineConfig("bench", REFERENCE_MODEL)
        models = importlib.import_module("networks.models")
        engines = importlib.import_module("networks.engines")
        aot_engine = importlib.import_module("networks.engines.aot_engine")
    except (ImportError, AttributeError) as err:
        raise SystemExit(f"--reference {checkout}: could not import the reference code ({err})") from None
    finally:
        sys.dont_write_bytecode = False
    cfg.FORMER_MEM_LEN, cfg.LATTER_MEM_LEN = 1, max_recent
    original = aot_engine.AOTEngine.assign_identity

    def assign_identity_on_mask_device(self: Any, one_hot_mask: torch.Tensor, ignore_mask: Any = None) -> Any:
        if ignore_mask is None:
            ignore_mask = one_hot_mask.new_zeros(one_hot_mask.shape[0], 1, *one_hot_mask.shape[2:])
        return original(self, one_hot_mask, ignore_mask)

    aot_engine.AOTEngine.assign_identity = assign_identity_on_mask_device
    model = models.build_vos_model(cfg.MODEL_VOS, cfg)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    engine = engines.build_engine(cfg.MODEL_ENGINE, phase="eval", aot_model=model, gpu_id=0,
                                  long_term_mem_gap=cfg.TEST_LONG_TERM_MEM_GAP)
    engine.eval()
    engine.long_term_mem_gap = gap  # what the RMem evaluator does per sequence
    return engine, stand_ins


def _timed(run: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Build both, run the interleaved video and return the report (module doc)."""
    torch.manual_seed(args.seed)
    ours_model, cfg = build_ours(args.gap, args.max_recent, args.seed)
    engine, stand_ins = build_reference(args.reference, ours_model.state_dict(), args.gap, args.max_recent)
    video, first_label = synthetic_video(args.frames, args.size, args.objects, args.seed)
    inputs = [normalize_frame(frame) for frame in video]
    height, width = args.size
    session = VideoSession(ours_model, cfg.memory, SessionConfig())
    captured = io.StringIO()
    label = torch.from_numpy(first_label.astype(np.int64))

    def ours_propagate(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probs = session.step(x, output_size=(height, width))
        return probs, probs.argmax(dim=1)

    def ours_update(labels: torch.Tensor) -> None:
        session.update(labels)

    def reference_propagate(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with contextlib.redirect_stdout(captured):
            probs = torch.softmax(engine.match_propogate_one_frame(x, output_size=(height, width)), dim=1)
            return probs, torch.argmax(probs, dim=1, keepdim=True).float()

    def reference_update(labels: torch.Tensor) -> None:
        with contextlib.redirect_stdout(captured):
            engine.update_memory(labels)

    steps = {"ours": (ours_propagate, ours_update), "reference": (reference_propagate, reference_update)}
    times: dict[str, list[float]] = {"ours": [], "reference": []}
    diffs: list[float] = []
    label_diffs: list[int] = []  # per propagated frame
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference's deprecated sdp_kernel context, on every attention call
        session.add_reference(inputs[0], label, 0, obj_ids=range(1, args.objects + 1))
        with contextlib.redirect_stdout(captured):
            engine.add_reference_frame(inputs[0], label.view(1, 1, height, width).int(), frame_step=0,
                                       obj_nums=[args.objects])
        for t in tqdm(range(1, args.frames), desc="frames (ours and reference in turn)", unit="frame"):
            order = ("ours", "reference") if t % 2 else ("reference", "ours")
            probs, labels, elapsed = {}, {}, {}
            for name in order:
                (probs[name], labels[name]), elapsed[name] = _timed(lambda: steps[name][0](inputs[t]))
            if args.feed == "reference":  # teacher forcing: both memories get the reference's label
                labels["ours"] = labels["reference"].view(1, height, width).long()
            for name in order:
                _, seconds = _timed(lambda: steps[name][1](labels[name]))
                times[name].append(elapsed[name] + seconds)
            diffs.append(float((probs["ours"] - probs["reference"]).abs().max()))
            label_diffs.append(int((probs["ours"].argmax(1) != probs["reference"].argmax(1)).sum()))
    full_from = (args.max_recent + 1) * args.gap  # first frame whose insertion overflows the bank
    rows = {}
    for name, values in times.items():
        timed = values[args.warmup:]
        full = values[full_from - 1:]
        rows[name] = {"ms_per_frame_median": 1000 * statistics.median(timed),
                      "ms_per_frame_p10": 1000 * sorted(timed)[len(timed) // 10],
                      "ms_per_frame_median_bank_full": 1000 * statistics.median(full) if full else None,
                      "frames_timed": len(timed), "frames_bank_full": len(full)}
    # With --feed own, once a near-tie pixel's argmax flips the two memories differ and the later differences grow
    # beyond float noise; the frames up to and including the first flip show the noise.
    first_flip = next((t for t, count in enumerate(label_diffs, start=1) if count), None)
    kept_reference = [int(i) for i in engine.aot_engines[0].long_memories_indexes]
    ratio_full = (rows["reference"]["ms_per_frame_median_bank_full"] / rows["ours"]["ms_per_frame_median_bank_full"]
                  if rows["ours"]["ms_per_frame_median_bank_full"] else None)
    return {"model": OUR_MODEL, "reference": f"{REFERENCE_STAGE}/{REFERENCE_MODEL}", "policy": "rmem",
            "size": list(args.size), "objects": args.objects, "frames": args.frames, "warmup": args.warmup,
            "gap": args.gap, "memory": f"1+{args.max_recent}", "seed": args.seed, "feed": args.feed,
            "machine": dict(machine_info(torch.device("cpu"), args.threads),
                            omp_wait_policy=os.environ.get("OMP_WAIT_POLICY")),
            "reference_stand_ins": stand_ins, "ours": rows["ours"], "reference_timing": rows["reference"],
            "ratio_reference_over_ours": rows["reference"]["ms_per_frame_median"] / rows["ours"]["ms_per_frame_median"],
            "ratio_reference_over_ours_bank_full": ratio_full,
            "max_abs_diff_probs": max(diffs), "label_pixels_differing": sum(label_diffs),
            "first_frame_with_label_difference": first_flip,
            "max_abs_diff_probs_before_first_label_difference": max(diffs[:first_flip] if first_flip else diffs),
            "max_abs_diff_probs_per_frame": diffs, "label_pixels_differing_per_frame": label_diffs,
            "kept_frames_ours": list(session.kept_frames), "kept_frames_reference": kept_reference,
            "kept_frames_identical": list(session.kept_frames) == kept_reference,
            "times_s": times}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, default=None,
                        help="local checkout of Restricted-Memory/RMem (the folder holding aot_plus/)")
    parser.add_argument("--size", type=parse_size, default=(241, 433), help="input HxW (16k+1 each)")
    parser.add_argument("--objects", type=int, default=2, help="objects in the reference mask")
    parser.add_argument("--frames", type=int, default=60, help="video length, reference frame included")
    parser.add_argument("--warmup", type=int, default=5, help="first propagated frames left out of the median")
    parser.add_argument("--gap", type=int, default=5, help="fixed long-term gap")
    parser.add_argument("--max-recent", type=int, default=8, help="bank: 1 reference + this many frames")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0, help="weight fill and video seed")
    parser.add_argument("--feed", choices=("reference", "own"), default="reference",
                        help="label written into the memories: the reference's argmax for both (teacher forcing, "
                             "so the probability check measures float noise) or each implementation's own argmax")
    parser.add_argument("--out", type=Path, default=None, help="write the report as JSON to this file")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Check the arguments, run the benchmark, log the summary (and write ``--out``); exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    check_reference(args.reference)
    if args.objects < 1 or args.objects > 10 or args.gap < 1 or args.max_recent < 1 or args.threads < 1:
        raise SystemExit("--objects must be 1..10, --gap, --max-recent and --threads >= 1")
    if any((side - 1) % 16 for side in args.size):
        raise SystemExit(f"--size: expected sides of the form 16k+1 (align_corners models), got "
                         f"{args.size[0]}x{args.size[1]}")
    if args.frames < args.warmup + 2:
        raise SystemExit(f"--frames must exceed --warmup + 1 ({args.warmup + 1}), got {args.frames}")
    if args.out is not None and args.out.is_dir():
        raise SystemExit(f"--out {args.out}: expected a file path, found a folder")
    torch.set_num_threads(args.threads)
    report = run_benchmark(args)
    ours, ref = report["ours"], report["reference_timing"]
    logger.info("ours      %8.1f ms/frame median (%d frames; bank full: %s)", ours["ms_per_frame_median"],
                ours["frames_timed"], _ms(ours["ms_per_frame_median_bank_full"]))
    logger.info("reference %8.1f ms/frame median (%d frames; bank full: %s)", ref["ms_per_frame_median"],
                ref["frames_timed"], _ms(ref["ms_per_frame_median_bank_full"]))
    logger.info("ratio reference / ours: %.2f (bank full: %s)", report["ratio_reference_over_ours"],
                "-" if report["ratio_reference_over_ours_bank_full"] is None
                else f"{report['ratio_reference_over_ours_bank_full']:.2f}")
    logger.info("probabilities: max |dp| %.2e over all frames, %.2e up to the first frame with a differing label "
                "(%s); %d label pixels differ in all; kept frames %s (ours %s, reference %s)",
                report["max_abs_diff_probs"], report["max_abs_diff_probs_before_first_label_difference"],
                "none" if report["first_frame_with_label_difference"] is None
                else f"frame {report['first_frame_with_label_difference']}", report["label_pixels_differing"],
                "identical" if report["kept_frames_identical"] else "DIFFER", report["kept_frames_ours"],
                report["kept_frames_reference"])
    if args.out is not None:
        write_text(args.out, json.dumps(report, indent=2))
        logger.info("wrote %s", args.out)
    return 0


def _ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f} ms"


if __name__ == "__main__":
    from aot_plus.interrupts import run_cli
    sys.exit(run_cli(main))
