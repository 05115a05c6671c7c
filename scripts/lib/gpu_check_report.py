"""Helpers of scripts/gpu_check.sh: the environment record, one line per step, and the final JSON + text summary.

Usage (from gpu_check.sh)::

    python scripts/lib/gpu_check_report.py env OUT/env.json
    python scripts/lib/gpu_check_report.py step STEPS.jsonl NAME RC START END LIMIT LOG -- CMD...
    python scripts/lib/gpu_check_report.py report OUT          # writes OUT/gpu_check.json and OUT/summary.txt
    python scripts/lib/gpu_check_report.py --check             # imports and argument parsing only
"""
from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

TIMED_OUT = (124, 137)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder (created with the user's umask)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def environment() -> dict[str, Any]:
    """torch, CUDA, cuDNN and GPU versions of this machine."""
    import torch

    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "torch": torch.__version__, "cuda": torch.version.cuda,
                            "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_count=torch.cuda.device_count(), gpu_memory_gib=props.total_memory / 2 ** 30,
                    capability=f"{props.major}.{props.minor}", cudnn=torch.backends.cudnn.version(),
                    bf16_supported=torch.cuda.is_bf16_supported())
    return info


def record_step(steps: Path, name: str, rc: int, start: float, end: float, limit: int, log: Path,
                command: Sequence[str]) -> None:
    """Append one step's outcome to the JSON-lines file ``steps``."""
    row = {"step": name, "rc": rc, "ok": rc == 0, "timed_out": rc in TIMED_OUT, "seconds": round(end - start, 1),
           "limit_s": limit, "log": str(log), "command": list(command)}
    with open(steps, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")


def _read_json(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _train_summary(out: Path) -> Optional[dict[str, Any]]:
    metrics = out / "train" / "log" / "metrics.jsonl"
    try:
        rows = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError):
        return None
    if not rows:
        return None
    losses = [r.get("pred_loss") for r in rows if r.get("pred_loss") is not None]
    return {"steps": rows[-1].get("step"), "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None, "last_row": rows[-1]}


def build_report(out: Path) -> dict[str, Any]:
    """Everything the check produced: environment, steps, benchmark rows, training summary."""
    steps_path = out / "steps.jsonl"
    steps = []
    if steps_path.is_file():
        steps = [json.loads(line) for line in steps_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {"environment": _read_json(out / "env.json"), "steps": steps,
            "bench": _read_json(out / "bench" / "bench.json"), "train": _train_summary(out),
            "all_ok": bool(steps) and all(s["ok"] for s in steps)}


def summary_text(report: dict[str, Any]) -> str:
    """A short human-readable summary: card, versions, each step, the benchmark table."""
    env = report["environment"] or {}
    lines = [f"gpu_check: {env.get('gpu', 'no GPU recorded')}, torch {env.get('torch', '?')}, "
             f"CUDA {env.get('cuda', '?')}", ""]
    for step in report["steps"]:
        state = "ok" if step["ok"] else ("TIMED OUT" if step["timed_out"] else f"FAILED (exit {step['rc']})")
        lines.append(f"{step['step']:<6} {state:<18} {step['seconds']:>7.1f} s   log: {step['log']}")
    train = report["train"]
    if train:
        lines += ["", f"train: {train['steps']} steps, pred_loss {train['first_loss']} -> {train['last_loss']}"]
    bench = report["bench"]
    if bench:
        lines += ["", f"bench: {bench['model']} {bench['size'][0]}x{bench['size'][1]}, {bench['objects']} objects, "
                      f"policies {', '.join(bench['policies'])}, memory 1 + {bench['max_recent_frames']}, "
                      f"gap {bench['gap']}" + ("" if bench.get("complete") else " (INCOMPLETE)"),
                  f"{'mode':<13} {'storage':<8} {'frames':>6} {'FPS':>7} {'ms median':>9} {'ms last50':>9} "
                  f"{'peak MB':>8} {'first s':>8}"]
        for row in bench["results"]:
            peak = "-" if row.get("peak_mb") is None else f"{row['peak_mb']:.0f}"
            lines.append(f"{row['mode']:<13} {row['storage']:<8} {row['length']:>6} {row['fps']:>7.1f} "
                         f"{row['ms_per_frame_median']:>9.2f} {row['ms_per_frame_last50_median']:>9.2f} "
                         f"{peak:>8} {row['first_frames_s']:>8.1f}")
    lines += ["", "ALL STEPS OK" if report["all_ok"] else "SOME STEPS FAILED"]
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Dispatch the sub-commands (see the module doc)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--check"]:
        return 0
    if len(args) == 2 and args[0] == "env":
        write_text_atomic(Path(args[1]), json.dumps(environment(), indent=2))
        return 0
    if len(args) >= 9 and args[0] == "step" and args[8] == "--":
        _, steps, name, rc, start, end, limit, log = args[:8]
        record_step(Path(steps), name, int(rc), float(start), float(end), int(limit), Path(log), args[9:])
        return 0
    if len(args) == 2 and args[0] == "report":
        out = Path(args[1])
        report = build_report(out)
        write_text_atomic(out / "gpu_check.json", json.dumps(report, indent=2))
        write_text_atomic(out / "summary.txt", summary_text(report))
        return 0
    sys.stderr.write("gpu_check_report.py: expected 'env FILE', 'step ... -- CMD', 'report OUT' or '--check', "
                     f"got {args}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
