"""Benchmark speed and peak memory of a model with several memory policies, modes and storages over video lengths.

For every ``(mode, storage, policy, length)`` a fresh worker process (this script with ``--worker``) builds the
model from its config (randomly initialised weights), opens a :class:`~aot_plus.engine.session.VideoSession`, adds
one reference frame with ``--objects`` objects and then runs ``step`` + ``update`` (soft probabilities) for the
remaining frames of random input. Modes: ``fp32``, ``bf16`` (bf16 autocast), ``fp32+compile`` and
``bf16+compile`` (the frame step compiled with ``torch.compile``, ``eval.compile``; needs the ``static`` storage,
``memory.storage``). Compilation happens during the untimed ``--warmup`` frames and is reported as
``first_frames_s``. With ``--api predictor`` it runs :class:`~aot_plus.inference.predictor.VideoPredictor`
instead: ``propagate_in_video`` over a stream (an iterator of unknown length) of random ``[H, W, 3]`` uint8 frames,
with the read-ahead thread, the test-time merge and every mask copied to the host, so ``peak_mb`` is the peak RSS
of the whole per-video API (its autocast is CUDA-only, as in evaluation). With ``--interleave`` all runs of one
length share one process and advance frame by frame in turn, so the load of a shared machine falls on each alike.
Each worker reports:

- ``ms_per_frame``: mean wall time of a frame (``step`` + ``update``, or one predictor output) after
  ``--warmup`` frames;
- ``ms_per_frame_last50``: the same over the last 50 frames (a bounded policy should be flat in time);
- ``ms_per_frame_median`` / ``ms_per_frame_last50_median``: medians of the same windows (robust to bursts of load
  from other processes on a shared machine); ``ms_per_frame_p10``: the 10th percentile (least disturbed frames);
- ``peak_mb``: peak resident set (CPU, ``VmHWM``) or ``torch.cuda.max_memory_allocated`` (CUDA) of the process;
- ``loop_peak_mb``: on CPU the peak resident set during the frame loop above the resident set before it (the peak
  counter is reset before the loop where the kernel allows); on CUDA the peak allocated above the allocation
  before the loop;
- ``bank_mb`` / ``kept_frames``: bytes (allocated slots for the static storage) and frames of the long-term memory
  at the end;
- ``first_frames_s``: wall time of the reference and the warm-up frames (includes compilation).

The parent writes ``bench.json`` (atomically) and ``bench.png`` (ms/frame and peak MB against length, one line
per policy) under ``--out``.

Example::

    python scripts/bench.py --model rmem_aott --lengths 50 200 800 --size 241x241 \\
        --policies unbounded fifo rmem emfs --threads 2 --out /tmp/bench/aott
    python scripts/bench.py --model rmem_r50_deaotl --policies rmem --size 480x854 --objects 2 \\
        --modes fp32 bf16 bf16+compile --storages growing static --lengths 100 1000 --device cuda --out /tmp/gpu
    python scripts/bench.py --api predictor --lengths 100 1000 --size 129x129 --policies fifo rmem emfs unbounded
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from aot_plus.config import load_config  # noqa: E402
from aot_plus.engine.config import SessionConfig  # noqa: E402
from aot_plus.engine.frame_step import FrameStep  # noqa: E402
from aot_plus.engine.session import VideoSession  # noqa: E402
from aot_plus.inference.predictor import VideoPredictor  # noqa: E402
from aot_plus.io.atomic import write_text, write_with  # noqa: E402
from aot_plus.launch import resolve_device  # noqa: E402
from aot_plus.models.build import build_model  # noqa: E402

logger = logging.getLogger("bench")
CONFIGS = REPO / "configs"
LAST_WINDOW = 50
MB = 2.0 ** 20
MODES = ("fp32", "bf16", "fp32+compile", "bf16+compile")
STORAGES = ("growing", "static")


def parse_size(text: str) -> tuple[int, int]:
    """``HxW`` (or a single number for a square) as ``(H, W)``."""
    parts = text.lower().split("x")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) < 16:
        raise argparse.ArgumentTypeError(f"--size: expected HxW with both >= 16 (e.g. 241x241), got {text!r}")
    return values


def machine_info(device: torch.device, threads: int) -> dict[str, Any]:
    """CPU model, core count, torch version, thread count and device name."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    info = {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "threads": threads, "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _status_kb(key: str) -> Optional[int]:
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _peak_rss_mb() -> float:
    """Peak resident set of this process (``VmHWM``; ``ru_maxrss`` where /proc is missing)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * 1024 / MB


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter to the current RSS (Linux ``clear_refs`` 5); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _experiment(model_name: str, run: tuple[str, str, str, int], gap: int, max_recent: int, device: torch.device,
                channels_last: bool) -> Any:
    """The experiment config of one run: memory policy, storage and gap; the predictor's eval settings."""
    mode, storage, policy, _ = run
    overrides = [f"memory={policy}", f"memory.long_term_gap={gap}", "memory.reference_frames=1",
                 f"memory.storage={storage}", f"eval.device={device}",
                 f"eval.amp={str(mode.startswith('bf16')).lower()}", "eval.amp_dtype=bfloat16", f"eval.compile={str(mode.endswith('+compile')).lower()}",
                 f"eval.channels_last={str(channels_last).lower()}"]
    if policy != "unbounded":
        overrides.append(f"memory.max_recent_frames={max_recent}")
    return load_config(CONFIGS / "models" / f"{model_name}.yaml", overrides)


def _session_frames(model: torch.nn.Module, cfg: Any, length: int, size: tuple[int, int], device: torch.device,
                    objects: int) -> Iterator[VideoSession]:
    """Frame 0 as the reference, then ``step`` + ``update`` per frame on random tensors; yields after each frame.
    ``objects`` side-by-side vertical bands in the middle of the frame."""
    height, width = size
    pool = torch.randn(4, 1, 3, height, width, device=device)
    mask = torch.zeros(height, width, dtype=torch.long, device=device)
    for obj in range(objects):
        left = width // 4 + obj * (width // 2) // objects
        mask[height // 4: 3 * height // 4, left: left + (width // 2) // objects] = obj + 1
    ev = cfg.eval
    step = FrameStep(model, compile=ev.compile, channels_last=ev.channels_last, compile_mode=ev.compile_mode)
    session = VideoSession(model, cfg.memory, SessionConfig(), num_frames=length, frame_step=step)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=ev.amp)
    with autocast:
        session.add_reference(pool[0], mask)
    yield session
    for index in range(1, length):
        with autocast:
            session.update(session.step(pool[index % len(pool)]))
        yield session


def _predictor_frames(model: torch.nn.Module, cfg: Any, length: int, size: tuple[int, int], device: torch.device,
                      objects: int) -> Iterator[VideoSession]:
    """:class:`VideoPredictor` over an iterator of random uint8 RGB frames of unknown length; yields per frame."""
    height, width = size
    pool = [np.random.default_rng(i).integers(0, 256, (height, width, 3), dtype=np.uint8) for i in range(4)]
    predictor = VideoPredictor(model, cfg, device)
    predictor.init_state(pool[index % len(pool)].copy() for index in range(length))
    for obj in range(objects):
        mask = np.zeros((height, width), bool)
        left = width // 4 + obj * (width // 2) // objects
        mask[height // 4: 3 * height // 4, left: left + (width // 2) // objects] = True
        predictor.add_new_mask(0, obj + 1, mask)
    try:
        for _ in predictor.propagate_in_video():
            yield predictor.sessions[0]
    finally:
        predictor.close()


def _frames(model: torch.nn.Module, cfg: Any, api: str, length: int, size: tuple[int, int], device: torch.device,
            objects: int) -> Iterator[VideoSession]:
    if api == "predictor":
        return _predictor_frames(model, cfg, length, size, device, objects)
    return _session_frames(model, cfg, length, size, device, objects)


def _timing_row(run: tuple[str, str, str, int], api: str, times: list[float], warmup: int, first_frames: float,
                session: VideoSession) -> dict[str, Any]:
    mode, storage, policy, length = run
    measured = times[warmup:] if len(times) > warmup else times
    last = times[-LAST_WINDOW:]
    return {"mode": mode, "storage": storage, "policy": policy, "length": length, "api": api,
            "frames_timed": len(measured), "ms_per_frame": 1000 * sum(measured) / len(measured),
            "ms_per_frame_last50": 1000 * sum(last) / len(last),
            "ms_per_frame_median": 1000 * statistics.median(measured),
            "ms_per_frame_last50_median": 1000 * statistics.median(last),
            "ms_per_frame_p10": 1000 * sorted(measured)[len(measured) // 10],
            "fps": len(measured) / sum(measured), "bank_mb": session.memory_bytes() / MB,
            "kept_frames": len(session.kept_frames), "first_frames_s": first_frames}


def _next_timed(frames: Iterator[VideoSession], device: torch.device) -> tuple[Optional[VideoSession], float]:
    """The next frame of ``frames`` and its wall time (device work included)."""
    start = time.perf_counter()
    session = next(frames, None)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return session, time.perf_counter() - start


def run_one(model_name: str, run: tuple[str, str, str, int], size: tuple[int, int], device: torch.device, gap: int,
            max_recent: int, warmup: int, objects: int = 1, channels_last: bool = False, api: str = "session",
            seed: int = 0) -> dict[str, Any]:
    """Time one video of ``run``'s length (reference included) and measure its memory; see the module doc."""
    cfg = _experiment(model_name, run, gap, max_recent, device, channels_last)
    torch.manual_seed(seed)
    model = build_model(cfg.model).to(device).eval()
    frames = _frames(model, cfg, api, run[3], size, device, objects)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    else:
        reset = _reset_peak_rss()
        base = (_status_kb("VmRSS") or 0) * 1024
        build_peak = None if reset else _peak_rss_mb()
    session, first = _next_timed(frames, device)  # the reference frame, untimed
    times = []
    while True:
        current, elapsed = _next_timed(frames, device)
        if current is None:
            break
        session = current
        times.append(elapsed)
    if cuda:
        peak = torch.cuda.max_memory_allocated(device) / MB
        loop_peak = peak - base / MB
    else:
        peak = _peak_rss_mb()
        loop_peak = peak - base / MB if build_peak is None else None
    first += sum(times[:warmup])
    row = _timing_row(run, api, times, warmup, first, session)
    row.update(peak_mb=peak, loop_peak_mb=loop_peak)
    return row


def run_interleaved(model_name: str, runs: Sequence[tuple[str, str, str, int]], size: tuple[int, int],
                    device: torch.device, gap: int, max_recent: int, warmup: int, objects: int = 1,
                    channels_last: bool = False, api: str = "session", seed: int = 0) -> list[dict[str, Any]]:
    """Time every run of one video length in this process, frame by frame in turn, so that the load of a shared
    machine falls on every mode alike (ratios between modes are then fair); one network, one video per run.
    Peak memory is not separable between runs and is left out."""
    configs = [_experiment(model_name, run, gap, max_recent, device, channels_last) for run in runs]
    torch.manual_seed(seed)
    model = build_model(configs[0].model).to(device).eval()
    streams = [_frames(model, cfg, api, run[3], size, device, objects) for run, cfg in zip(runs, configs)]
    times: list[list[float]] = [[] for _ in runs]
    firsts = [0.0] * len(runs)
    sessions: list[Optional[VideoSession]] = [None] * len(runs)
    while True:
        advanced = False
        for number, frames in enumerate(streams):
            current, elapsed = _next_timed(frames, device)
            if current is None:
                continue
            advanced = True
            if sessions[number] is None:
                firsts[number] = elapsed
            else:
                times[number].append(elapsed)
            sessions[number] = current
        if not advanced:
            break
    return [_timing_row(run, api, run_times, warmup, first + sum(run_times[:warmup]), session)
            for run, run_times, first, session in zip(runs, times, firsts, sessions)]


def _worker_command(args: argparse.Namespace, run: tuple[str, str, str, int], result: Path) -> list[str]:
    mode, storage, policy, length = run
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(result), "--model", args.model,
               "--policies", policy, "--lengths", str(length), "--size", f"{args.size[0]}x{args.size[1]}",
               "--device", args.device, "--gap", str(args.gap), "--max-recent", str(args.max_recent),
               "--warmup", str(args.warmup), "--threads", str(args.threads), "--modes", mode,
               "--storages", storage, "--objects", str(args.objects), "--api", args.api]
    return command + (["--channels-last"] if args.channels_last else [])


def planned_runs(args: argparse.Namespace) -> list[tuple[str, str, str, int]]:
    """Every ``(mode, storage, policy, length)`` to measure; compiled modes run on the static storage only and
    the static storage needs a bounded policy, so other combinations are left out."""
    runs = []
    for length in sorted(args.lengths):
        for mode in args.modes:
            for storage in args.storages:
                for policy in args.policies:
                    if (mode.endswith("+compile") and storage != "static") or \
                            (storage == "static" and policy == "unbounded"):
                        continue
                    runs.append((mode, storage, policy, length))
    return runs


def plot(report: dict[str, Any], path: Path) -> None:
    """Two panels against video length, one line per policy: ms/frame and peak MB."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    memory_label = "peak allocated MB (CUDA)" if report["machine"]["device"].startswith("cuda") else "peak RSS MB"
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4))
    lines = sorted({(r["policy"], r["mode"], r["storage"]) for r in report["results"]})
    for policy, mode, storage in lines:
        rows = sorted((r for r in report["results"]
                       if (r["policy"], r["mode"], r["storage"]) == (policy, mode, storage)), key=lambda r: r["length"])
        lengths = [r["length"] for r in rows]
        label = policy if len(lines) == len(report["policies"]) else f"{policy} {mode} {storage}"
        ax_time.plot(lengths, [r["ms_per_frame_median"] for r in rows], marker="o", label=label)
        if all(r.get("peak_mb") is not None for r in rows):
            ax_mem.plot(lengths, [r["peak_mb"] for r in rows], marker="o", label=label)
    for axis, label in ((ax_time, "median ms / frame"), (ax_mem, memory_label)):
        axis.set_xscale("log")
        axis.set_xticks(report["lengths"], [str(n) for n in report["lengths"]])
        axis.set_xlabel("video length (frames)")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:  # interleaved runs have no peak-memory lines
            axis.legend()
    fig.suptitle(f"{report['model']} ({report['api']}) {report['size'][0]}x{report['size'][1]} on "
                 f"{report['machine']['device']}, "
                 f"gap {report['gap']}, {report['machine']['threads']} thread(s)")
    fig.tight_layout()
    write_with(path, lambda temp: fig.savefig(temp, dpi=100))
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="rmem_aott", help="config name under configs/models/")
    parser.add_argument("--policies", nargs="+", default=["unbounded", "fifo", "rmem", "emfs"],
                        help="config names under configs/memory/")
    parser.add_argument("--lengths", nargs="+", type=int, default=[50, 200, 800], help="video lengths in frames")
    parser.add_argument("--size", type=parse_size, default=(241, 241), help="input HxW")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=["fp32"],
                        help="precision and compilation: fp32, bf16 (autocast), fp32+compile, bf16+compile")
    parser.add_argument("--storages", nargs="+", choices=STORAGES, default=["growing"],
                        help="memory.storage values (compiled modes run on static only)")
    parser.add_argument("--objects", type=int, default=1, help="objects in the reference mask")
    parser.add_argument("--channels-last", action="store_true", help="channels-last convolutions (eval.channels_last)")
    parser.add_argument("--gap", type=int, default=5, help="fixed long-term gap")
    parser.add_argument("--max-recent", type=int, default=8, help="memory.max_recent_frames of bounded policies")
    parser.add_argument("--warmup", type=int, default=5, help="first propagated frames left out of the timing")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench"), help="folder for bench.json and bench.png")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the arguments, log the planned runs and stop (nothing is measured or written)")
    parser.add_argument("--api", choices=("session", "predictor"), default="session",
                        help="session: VideoSession step/update on random tensors; predictor: "
                             "VideoPredictor.propagate_in_video over a stream of random RGB frames (read-ahead, "
                             "TTA merge, masks copied to the host)")
    parser.add_argument("--interleave", action="store_true",
                        help="time all modes/storages/policies of a length in one process, frame by frame in turn "
                             "(fair ratios on a shared machine; no peak memory)")
    parser.add_argument("--in-process", action="store_true",
                        help="measure in this process (fast, for tests; peak memory then mixes across runs)")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict[str, Any]:
    """Run the benchmark (or, with the internal ``--worker``, one measurement) and return the report."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    unknown = [p for p in args.policies if not (CONFIGS / "memory" / f"{p}.yaml").is_file()]
    if unknown or not (CONFIGS / "models" / f"{args.model}.yaml").is_file():
        raise SystemExit(f"unknown model {args.model!r} or policies {unknown} (see configs/models, configs/memory)")
    if min(args.lengths) < 2 or args.gap < 1 or args.threads < 1 or args.objects < 1:
        raise SystemExit("--lengths must be >= 2, --gap, --threads and --objects >= 1")
    runs = planned_runs(args)
    if not runs:
        raise SystemExit("nothing to measure: compiled modes need --storages static, and static a bounded policy")
    if args.dry_run:
        for run in runs:
            logger.info("would measure mode %s, storage %s, policy %s, %d frames", *run)
        return {"planned": runs}
    torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device, key="--device")
    except ValueError as err:
        raise SystemExit(str(err)) from None
    if args.worker is not None:
        run = (args.modes[0], args.storages[0], args.policies[0], args.lengths[0])
        result = run_one(args.model, run, args.size, device, args.gap, args.max_recent, args.warmup, args.objects,
                         args.channels_last, args.api)
        write_text(args.worker, json.dumps(result))
        return result
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    batches = ([[run for run in runs if run[3] == length] for length in sorted(args.lengths)] if args.interleave
               else [[run] for run in runs])
    for batch in batches:
        if args.interleave:
            rows = run_interleaved(args.model, batch, args.size, device, args.gap, args.max_recent, args.warmup,
                                   args.objects, args.channels_last, args.api)
        elif args.in_process:
            rows = [run_one(args.model, batch[0], args.size, device, args.gap, args.max_recent, args.warmup,
                            args.objects, args.channels_last, args.api)]
        else:
            result_path = args.out / (".%s_%s_%s_%d.json" % batch[0])
            subprocess.run(_worker_command(args, batch[0], result_path), check=True)
            rows = [json.loads(result_path.read_text(encoding="utf-8"))]
            result_path.unlink()
        for row in rows:
            peak = "" if row.get("peak_mb") is None else f", peak {row['peak_mb']:7.1f} MB"
            logger.info("%-12s %-7s %-10s %5d frames: %7.1f ms/frame median (last %d: %7.1f)%s, bank %6.1f MB "
                        "(%d frames), first frames %.1f s", row["mode"], row["storage"], row["policy"],
                        row["length"], row["ms_per_frame_median"], LAST_WINDOW, row["ms_per_frame_last50_median"],
                        peak, row["bank_mb"], row["kept_frames"], row["first_frames_s"])
        results.extend(rows)
        # Rewritten after every measurement, so a run stopped by a time limit keeps what it measured.
        report = {"model": args.model, "api": args.api, "size": list(args.size), "gap": args.gap,
                  "max_recent_frames": args.max_recent, "warmup": args.warmup, "modes": args.modes,
                  "storages": args.storages, "objects": args.objects, "channels_last": args.channels_last,
                  "in_process": args.in_process, "interleave": args.interleave, "policies": args.policies,
                  "lengths": sorted(args.lengths), "machine": machine_info(device, args.threads),
                  "results": results, "complete": len(results) == len(runs)}
        write_text(args.out / "bench.json", json.dumps(report, indent=2))
    plot(report, args.out / "bench.png")
    logger.info("wrote %s and %s", args.out / "bench.json", args.out / "bench.png")
    return report


if __name__ == "__main__":
    main()
