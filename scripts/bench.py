"""Benchmark speed and peak memory of a model with several memory policies over video lengths.

For every ``(policy, length)`` a fresh worker process (this script with ``--worker``) builds the model from its
config (randomly initialised weights), opens a :class:`~aot_plus.engine.session.VideoSession`, adds one reference
frame with one object and then runs ``step`` + ``update`` (soft probabilities) for the remaining frames of
random input. With ``--api predictor`` it runs :class:`~aot_plus.inference.predictor.VideoPredictor` instead:
``propagate_in_video`` over a stream (an iterator of unknown length) of random ``[H, W, 3]`` uint8 frames, with
the read-ahead thread, the test-time merge and every mask copied to the host, so ``peak_mb`` is the peak RSS of
the whole per-video API. Each worker reports:

- ``ms_per_frame``: mean wall time of a frame (``step`` + ``update``, or one predictor output) after
  ``--warmup`` frames;
- ``ms_per_frame_last50``: the same over the last 50 frames (a bounded policy should be flat in time);
- ``ms_per_frame_median`` / ``ms_per_frame_last50_median``: medians of the same windows (robust to bursts of load
  from other processes on a shared machine); ``ms_per_frame_p10``: the 10th percentile (least disturbed frames);
- ``peak_mb``: peak resident set (CPU, ``VmHWM``) or ``torch.cuda.max_memory_allocated`` (CUDA) of the process;
- ``loop_peak_mb``: on CPU the peak resident set during the frame loop (reference frame included) above the
  resident set before it (the peak
  counter is reset before the loop where the kernel allows); on CUDA the peak allocated above the allocation
  before the loop;
- ``bank_mb`` / ``kept_frames``: bytes and frames of the long-term memory at the end.

The parent writes ``bench.json`` (atomically) and ``bench.png`` (ms/frame and peak MB against length, one line
per policy) under ``--out``.

Example::

    python scripts/bench.py --model rmem_aott --lengths 50 200 800 --size 241x241 \\
        --policies unbounded fifo rmem emfs --threads 2 --out /tmp/bench/aott
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
import tempfile
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
from aot_plus.engine.session import VideoSession  # noqa: E402
from aot_plus.inference.predictor import VideoPredictor  # noqa: E402
from aot_plus.launch import resolve_device  # noqa: E402
from aot_plus.models.build import build_model  # noqa: E402

logger = logging.getLogger("bench")
CONFIGS = REPO / "configs"
LAST_WINDOW = 50
MB = 2.0 ** 20


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


def _compile(model: torch.nn.Module) -> None:
    """Wrap the session's entry points of ``model`` with ``torch.compile`` (dynamic shapes: the bank grows)."""
    for name in ("encode", "propagate", "decode", "memorize"):
        setattr(model, name, torch.compile(getattr(model, name), dynamic=True))


def _session_frames(model: torch.nn.Module, cfg: Any, length: int, size: tuple[int, int], device: torch.device,
                    amp: bool) -> Iterator[Any]:
    """Frame 0 as the reference, then ``step`` + ``update`` per frame on random tensors; yields after each frame."""
    height, width = size
    pool = torch.randn(4, 1, 3, height, width, device=device)
    mask = torch.zeros(height, width, dtype=torch.long, device=device)
    mask[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = 1
    session = VideoSession(model, cfg.memory, SessionConfig(), num_frames=length)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        session.add_reference(pool[0], mask)
        yield session
        for index in range(1, length):
            session.update(session.step(pool[index % len(pool)]))
            yield session


def _predictor_frames(model: torch.nn.Module, cfg: Any, length: int, size: tuple[int, int],
                      device: torch.device) -> Iterator[Any]:
    """:class:`VideoPredictor` over an iterator of random uint8 RGB frames of unknown length; yields per frame."""
    height, width = size
    pool = [np.random.default_rng(i).integers(0, 256, (height, width, 3), dtype=np.uint8) for i in range(4)]
    predictor = VideoPredictor(model, cfg, device)
    predictor.init_state(pool[index % len(pool)].copy() for index in range(length))
    mask = np.zeros((height, width), bool)
    mask[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = True
    predictor.add_new_mask(0, 1, mask)
    try:
        for _ in predictor.propagate_in_video():
            yield predictor.sessions[0]
    finally:
        predictor.close()


def run_one(model_name: str, policy: str, length: int, size: tuple[int, int], device: torch.device, gap: int,
            max_recent: int, warmup: int, amp: bool, compile_model: bool, seed: int = 0,
            api: str = "session") -> dict[str, Any]:
    """Time one video of ``length`` frames (reference included) and measure its memory; see the module doc."""
    overrides = [f"memory={policy}", f"memory.long_term_gap={gap}", "memory.reference_frames=1",
                 f"eval.device={device}", f"eval.amp={str(amp).lower()}", "eval.amp_dtype=bfloat16"]
    if policy != "unbounded":
        overrides.append(f"memory.max_recent_frames={max_recent}")
    cfg = load_config(CONFIGS / "models" / f"{model_name}.yaml", overrides)
    torch.manual_seed(seed)
    model = build_model(cfg.model).to(device).eval()
    if compile_model:
        _compile(model)
    frames = (_predictor_frames(model, cfg, length, size, device) if api == "predictor"
              else _session_frames(model, cfg, length, size, device, amp))
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    else:
        reset = _reset_peak_rss()
        base = (_status_kb("VmRSS") or 0) * 1024
        build_peak = None if reset else _peak_rss_mb()
    times = []
    session = next(frames)  # the reference frame, untimed
    while True:
        start = time.perf_counter()
        session = next(frames, None)
        if session is None:
            break
        if cuda:
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
        last_session = session
    if cuda:
        peak = torch.cuda.max_memory_allocated(device) / MB
        loop_peak = peak - base / MB
    else:
        peak = _peak_rss_mb()
        loop_peak = peak - base / MB if build_peak is None else None
    measured = times[warmup:] if len(times) > warmup else times
    last = times[-LAST_WINDOW:]
    return {"policy": policy, "length": length, "api": api, "frames_timed": len(measured),
            "ms_per_frame": 1000 * sum(measured) / len(measured),
            "ms_per_frame_last50": 1000 * sum(last) / len(last),
            "ms_per_frame_median": 1000 * statistics.median(measured),
            "ms_per_frame_last50_median": 1000 * statistics.median(last),
            "ms_per_frame_p10": 1000 * sorted(measured)[len(measured) // 10],
            "fps": len(measured) / sum(measured), "peak_mb": peak, "loop_peak_mb": loop_peak,
            "bank_mb": last_session.memory_bytes() / MB, "kept_frames": len(last_session.kept_frames)}


def _worker_command(args: argparse.Namespace, policy: str, length: int, result: Path) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(result), "--model", args.model,
               "--policies", policy, "--lengths", str(length), "--size", f"{args.size[0]}x{args.size[1]}",
               "--device", args.device, "--gap", str(args.gap), "--max-recent", str(args.max_recent),
               "--warmup", str(args.warmup), "--threads", str(args.threads), "--api", args.api]
    return command + (["--amp"] if args.amp else []) + (["--compile"] if args.compile else [])


def _write_atomic(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)


def plot(report: dict[str, Any], path: Path) -> None:
    """Two panels against video length, one line per policy: ms/frame and peak MB."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    memory_label = "peak allocated MB (CUDA)" if report["machine"]["device"].startswith("cuda") else "peak RSS MB"
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4))
    for policy in report["policies"]:
        rows = sorted((r for r in report["results"] if r["policy"] == policy), key=lambda r: r["length"])
        lengths = [r["length"] for r in rows]
        ax_time.plot(lengths, [r["ms_per_frame_median"] for r in rows], marker="o", label=policy)
        ax_mem.plot(lengths, [r["peak_mb"] for r in rows], marker="o", label=policy)
    for axis, label in ((ax_time, "median ms / frame"), (ax_mem, memory_label)):
        axis.set_xscale("log")
        axis.set_xticks(report["lengths"], [str(n) for n in report["lengths"]])
        axis.set_xlabel("video length (frames)")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend()
    fig.suptitle(f"{report['model']} ({report['api']}) {report['size'][0]}x{report['size'][1]} on "
                 f"{report['machine']['device']}, "
                 f"gap {report['gap']}, {report['machine']['threads']} thread(s)")
    fig.tight_layout()
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp.png")
    os.close(fd)
    fig.savefig(temp, dpi=100)
    plt.close(fig)
    os.replace(temp, path)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="rmem_aott", help="config name under configs/models/")
    parser.add_argument("--policies", nargs="+", default=["unbounded", "fifo", "rmem", "emfs"],
                        help="config names under configs/memory/")
    parser.add_argument("--lengths", nargs="+", type=int, default=[50, 200, 800], help="video lengths in frames")
    parser.add_argument("--size", type=parse_size, default=(241, 241), help="input HxW")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model's entry points")
    parser.add_argument("--gap", type=int, default=5, help="fixed long-term gap")
    parser.add_argument("--max-recent", type=int, default=8, help="memory.max_recent_frames of bounded policies")
    parser.add_argument("--warmup", type=int, default=5, help="first propagated frames left out of the timing")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench"), help="folder for bench.json and bench.png")
    parser.add_argument("--api", choices=("session", "predictor"), default="session",
                        help="session: VideoSession step/update on random tensors; predictor: "
                             "VideoPredictor.propagate_in_video over a stream of random RGB frames (read-ahead, "
                             "TTA merge, masks copied to the host)")
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
    if min(args.lengths) < 2 or args.gap < 1 or args.threads < 1:
        raise SystemExit("--lengths must be >= 2, --gap and --threads >= 1")
    torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device, key="--device")
    except ValueError as err:
        raise SystemExit(str(err)) from None
    if args.worker is not None:
        result = run_one(args.model, args.policies[0], args.lengths[0], args.size, device, args.gap, args.max_recent,
                         args.warmup, args.amp, args.compile, api=args.api)
        _write_atomic(args.worker, json.dumps(result))
        return result
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for length in sorted(args.lengths):
        for policy in args.policies:
            if args.in_process:
                row = run_one(args.model, policy, length, args.size, device, args.gap, args.max_recent, args.warmup,
                              args.amp, args.compile, api=args.api)
            else:
                result_path = args.out / f".{policy}_{length}.json"
                subprocess.run(_worker_command(args, policy, length, result_path), check=True)
                row = json.loads(result_path.read_text(encoding="utf-8"))
                result_path.unlink()
            logger.info("%-10s %5d frames: %7.1f ms/frame median (last %d: %7.1f), peak %7.1f MB, bank %6.1f MB "
                        "(%d frames)", policy, length, row["ms_per_frame_median"], LAST_WINDOW,
                        row["ms_per_frame_last50_median"],
                        row["peak_mb"], row["bank_mb"], row["kept_frames"])
            results.append(row)
    report = {"model": args.model, "api": args.api, "size": list(args.size), "gap": args.gap, "max_recent_frames": args.max_recent,
              "warmup": args.warmup, "amp": args.amp, "compile": args.compile,
              "in_process": args.in_process, "policies": args.policies,
              "lengths": sorted(args.lengths), "machine": machine_info(device, args.threads), "results": results}
    _write_atomic(args.out / "bench.json", json.dumps(report, indent=2))
    plot(report, args.out / "bench.png")
    logger.info("wrote %s and %s", args.out / "bench.json", args.out / "bench.png")
    return report


if __name__ == "__main__":
    main()
