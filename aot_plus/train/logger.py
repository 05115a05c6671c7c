"""Training logs: a text line every ``log_every`` steps, a per-step JSON-lines file, TensorBoard, a progress bar.

The speed is wall time per step over the last window (data loading included), so the ETA is honest.

Per-step values stay on the device until a log step, so logging costs one host synchronisation per
``log_every`` steps. Window means are averaged over ranks (every rank takes part in that all-reduce; only rank 0
writes). Files (rank 0): ``log/train.log`` (the text lines), ``log/metrics.jsonl`` (one record per step: step, total
loss, auxiliary loss and weight, prediction loss, LR; rank 0's own values), ``log/tensorboard/`` when the
tensorboard package is installed and ``train.tensorboard`` is on.
"""
from __future__ import annotations

import datetime
import json
import logging
import resource
import time
from pathlib import Path
from typing import Any, Optional

import torch

from aot_plus import distributed
from aot_plus.train.config import TrainConfig

log = logging.getLogger(__name__)


def peak_memory_gib(device: torch.device) -> float:
    """Peak memory of this process: CUDA max allocated on GPU, max resident set size on CPU (GiB)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _tensorboard_writer(folder: Path) -> Optional[Any]:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        log.info("tensorboard is not installed; scalars go to log/metrics.jsonl only")
        return None
    return SummaryWriter(str(folder))


class StepLogger:
    """Collects per-step values and writes them out on log steps.

    Args:
        run_dir: the run folder.
        cfg: the train section.
        ctx: the distributed context.
        start_step: first step of this run (progress bar and ETA start here).
        end_step: last step of this run.
    """

    def __init__(self, run_dir: Path, cfg: TrainConfig, ctx: distributed.DistContext, start_step: int,
                 end_step: int) -> None:
        self.cfg, self.ctx = cfg, ctx
        self.end_step = end_step
        self.history: list[float] = []
        self._pending: list[tuple[int, float, Any]] = []
        self._window_start = time.perf_counter()
        self._window_steps = 0
        self._file_handler: Optional[logging.Handler] = None
        self._saved_level = logging.NOTSET
        self._jsonl = None
        self._tb = None
        self._bar = None
        if not ctx.is_main:
            return
        log_dir = run_dir / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._file_handler = logging.FileHandler(log_dir / "train.log")
        self._file_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        self._file_handler.setLevel(logging.INFO)
        package = logging.getLogger("aot_plus")
        self._saved_level = package.level
        if package.getEffectiveLevel() > logging.INFO:
            package.setLevel(logging.INFO)  # the file gets INFO lines even when the console shows warnings only
        package.addHandler(self._file_handler)
        self._jsonl = open(log_dir / "metrics.jsonl", "a", encoding="utf-8")
        if cfg.tensorboard:
            self._tb = _tensorboard_writer(log_dir / "tensorboard")
        if cfg.progress:
            from tqdm import tqdm
            self._bar = tqdm(total=end_step, initial=start_step, desc="train", unit="step", dynamic_ncols=True)

    def step(self, step: int, out: Any, lr: float, obj_nums: torch.Tensor) -> None:
        """Record the step just finished (``step`` is the count after the update, ``out`` its StepOutput)."""
        values = torch.stack([out.loss.detach().float(), out.aux_loss.detach().float(),
                              out.pred_loss.detach().float(), out.iou.detach().float(),
                              obj_nums.detach().float().mean().to(out.loss.device)])
        # Per-frame batch means of the two loss terms ([2, L]), written to metrics.jsonl.
        terms = torch.stack([out.cross_entropy.float().mean(dim=1), out.jaccard.float().mean(dim=1)])
        self._pending.append((step, lr, (values, out.aux_weight, terms)))
        self._window_steps += 1
        if self._bar is not None:
            self._bar.update(1)
        if step % self.cfg.log_every == 0 or step == self.end_step:
            self._flush(step, lr)

    def _flush(self, step: int, lr: float) -> None:
        stacked = torch.stack([v for _, _, (v, _, _) in self._pending])
        window = distributed.all_reduce_mean(stacked.mean(dim=0)).cpu().tolist()
        rows = stacked.cpu().tolist()
        if self.ctx.is_main:
            terms = [t.cpu().tolist() for _, _, (_, _, t) in self._pending]
            for (s, rate, (_, aux_weight, _)), row, (ce, jaccard) in zip(self._pending, rows, terms):
                self.history.append(row[0])
                self._jsonl.write(json.dumps({"step": s, "loss": row[0], "aux_loss": row[1], "aux_weight": aux_weight,
                                              "pred_loss": row[2], "lr": rate, "frame_cross_entropy": ce,
                                              "frame_jaccard": jaccard}) + "\n")
            self._jsonl.flush()
            self._write_line(step, lr, window)
        self._pending = []
        self._window_start, self._window_steps = time.perf_counter(), 0

    def _write_line(self, step: int, lr: float, window: list[float]) -> None:
        loss, aux, pred, iou, objs = window
        per_step = (time.perf_counter() - self._window_start) / max(self._window_steps, 1)
        eta = datetime.timedelta(seconds=int(per_step * (self.end_step - step)))
        mem = peak_memory_gib(self.ctx.device)
        log.info("step %d/%d | loss %.4f (aux %.4f, pred %.4f) | IoU %.1f%% | obj %.1f | lr %.3e | %.2f s/step | "
                 "ETA %s | peak mem %.2fG", step, self.end_step, loss, aux, pred, 100 * iou, objs, lr, per_step, eta,
                 mem)
        if self._tb is not None:
            for name, value in (("loss", loss), ("aux_loss", aux), ("pred_loss", pred), ("iou", iou), ("lr", lr),
                                ("seconds_per_step", per_step)):
                self._tb.add_scalar(f"train/{name}", value, step)
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}")

    def close(self) -> None:
        """Close the files (values recorded after the last log step are dropped when a run fails)."""
        if self._jsonl is not None:
            self._jsonl.close()
        if self._tb is not None:
            self._tb.close()
        if self._bar is not None:
            self._bar.close()
        if self._file_handler is not None:
            package = logging.getLogger("aot_plus")
            package.removeHandler(self._file_handler)
            package.setLevel(self._saved_level)
            self._file_handler.close()
