"""The training loop: one readable function, :func:`train` (forward, loss, backward, clip, step, EMA, log, save).

Start-up order: check inputs (resume checkpoint or pretrained file, dataset folders) -> process group and device ->
seeds -> model (with frozen encoder stages) -> initial weights (not when resuming) -> DDP -> EMA (rank 0) ->
optimiser and gradient scaler -> data loader -> resume.

Steps follow the reference semantics (``docs/training-recipe.md``, Step semantics): step ``s`` counts optimiser
updates from 0; the LR, hard-mining fraction, auxiliary weight and teacher-forcing switch use ``s`` before the
update; checkpoints are named with ``s`` after it. A step whose fp16 gradients overflow skips the optimiser update
but still advances the step, the schedules and the EMA, as in the reference.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import torch
from torch.nn.parallel import DistributedDataParallel

from aot_plus.config import dump_config, save_config
from aot_plus.interrupts import StopRequest
from aot_plus.launch import launch_ranks
from aot_plus.train import checkpoint as ckpt
from aot_plus import distributed
from aot_plus.train.ema import ModelEma
from aot_plus.train.logger import StepLogger
from aot_plus.train.optim import apply_schedule, build_optimizer
from aot_plus.train.sampler import ResumableBatchSampler
from aot_plus.train.sequence import SequenceTrainer, clip_to_device
from aot_plus.train.setup import (StartupError, build_loader, build_training_model, check_pretrained,
                                  load_train_dataset, torch_settings)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """What a finished (or stopped) run did.

    Attributes:
        run_dir: the run folder.
        start_step: the step the run started from (0, or the resumed step).
        end_step: the step reached.
        losses: rank 0's total loss of every step this run performed, in order (empty on other ranks).
        last_checkpoint: the newest training checkpoint written, if any.
        weights_digest: SHA-256 of this rank's final model state (equal on every rank of a healthy DDP run).
    """

    run_dir: Path
    start_step: int
    end_step: int
    losses: tuple[float, ...]
    last_checkpoint: Optional[Path]
    weights_digest: str


def _batches(loader: torch.utils.data.DataLoader, sampler: ResumableBatchSampler, dataset: Any,
             start: tuple[int, int]) -> Iterator[Any]:
    """Endless batches from ``start`` = (epoch, batch) on."""
    epoch, position = start
    while True:
        sampler.set_position(epoch, position)
        dataset.set_epoch(epoch)
        yield from loader
        epoch, position = epoch + 1, 0


def _resume_path(resume: Optional[str], run_dir: Path) -> Optional[Path]:
    if resume is None:
        return None
    if resume == "auto":
        found = ckpt.latest_checkpoint(run_dir)
        log.info("resume auto: %s", found if found else f"no checkpoint in {run_dir / ckpt.CKPT_DIR}, fresh start")
        return found
    path = Path(resume)
    if not path.is_file():
        raise ckpt.ResumeError(f"resume checkpoint not found: {path}")
    return path


def train(cfg: Any, resume: Optional[str] = None, force_output: bool = False) -> TrainResult:
    """Run (or continue) training as configured; returns a :class:`TrainResult` on every rank.

    Args:
        cfg: the :class:`~aot_plus.config.schema.ExperimentConfig`.
        resume: ``None`` (fresh start), ``"auto"`` (newest checkpoint of the run folder, if any) or a path.
        force_output: use a run folder that holds other files or overlaps the data (``--force-output``).

    Raises:
        aot_plus.train.setup.StartupError: a missing dataset folder or pretrained file, or a bad setting.
        aot_plus.train.checkpoint.ResumeError: the resume checkpoint is missing or unusable.
    """
    tc = cfg.train
    run_dir = Path(tc.output_dir)
    resume_path = _resume_path(resume, run_dir)
    if resume == "auto" and resume_path is not None:
        ckpt.check_resume_config(resume_path, cfg)
    elif resume is None:
        ckpt.check_fresh_run_dir(run_dir)
    if resume_path is None:
        check_pretrained(tc)
    dataset = load_train_dataset(cfg)
    if launch_ranks()[0] == 0:  # one writer of the folder's manifest
        ckpt.claim_run_dir(run_dir, cfg, force_output)
    try:
        ctx = distributed.setup(tc.device, tc.dist_timeout_s)
    except ValueError as err:
        raise StartupError(str(err)) from err
    try:
        with torch_settings(tc, ctx):
            result = _run(cfg, ctx, dataset, run_dir, resume_path)
        distributed.barrier()  # no rank leaves the group while another is still in a collective
        return result
    finally:
        distributed.cleanup()


def _run(cfg: Any, ctx: distributed.DistContext, dataset: Any, run_dir: Path,
         resume_path: Optional[Path]) -> TrainResult:
    tc = cfg.train
    if ctx.is_main:
        save_config(cfg, run_dir / "config.yaml")
    model = build_training_model(cfg, ctx.device, load_pretrained=resume_path is None)
    trainer = SequenceTrainer(model, cfg.model, cfg.memory, tc)
    engine: torch.nn.Module = trainer
    if ctx.distributed:
        # DDP copies rank 0's weights and buffers to every rank here. Frozen BN buffers never change, so they are
        # not re-sent; BatchNorm that learns (model.freeze_bn false, the from-scratch recipe) gets rank 0's running
        # statistics at every forward, so all ranks keep identical weights. Some parameters get no gradient in some
        # steps (the identity bank in sequence training, linear_KMem always), hence find_unused_parameters.
        engine = DistributedDataParallel(trainer, device_ids=[ctx.device] if ctx.device.type == "cuda" else None,
                                         find_unused_parameters=True, forward_sync_buffers=not cfg.model.freeze_bn)
    ema = ModelEma(model, tc.ema_decay) if tc.ema and ctx.is_main else None
    optimizer = build_optimizer(model, tc)
    use_amp = tc.amp and ctx.device.type == "cuda"
    amp_dtype = getattr(torch, tc.amp_dtype)
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=use_amp and amp_dtype == torch.float16)
    loader, sampler = build_loader(dataset, cfg, ctx)

    start, position = 0, (0, 0)
    if resume_path is not None:
        start, position = _restore(resume_path, ctx, model, optimizer, scaler, ema, sampler)
    end = tc.stop_at_step if tc.stop_at_step is not None else tc.total_steps
    if start >= tc.total_steps:
        log.info("training already finished (step %d of %d)", start, tc.total_steps)
    logger = StepLogger(run_dir, tc, ctx, start_step=start, end_step=end)
    trainable = [p for p in model.parameters() if p.requires_grad]
    batches = _batches(loader, sampler, dataset, position)
    last_ckpt: Optional[Path] = None
    step = saved_step = start
    engine.train()
    stop = StopRequest().install()
    try:
        while step < end:
            batch = next(batches)
            clip = clip_to_device(batch, ctx.device)
            lr = apply_schedule(optimizer, step, tc)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(ctx.device.type, dtype=amp_dtype, enabled=use_amp):
                out = engine(clip.images, clip.labels, clip.obj_nums, step)
            scaler.scale(out.loss).backward()
            scaler.unscale_(optimizer)
            if tc.clip_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(trainable, tc.clip_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            if ema is not None:
                ema.update()
            step += 1
            logger.step(step, out, lr, clip.obj_nums)
            if step % tc.save_every == 0 or step == end:
                last_ckpt = _save(run_dir, step, ctx, model, optimizer, scaler, ema, sampler, cfg)
                saved_step = step
            if stop.agreed(lambda flag: _any_rank(flag, ctx)):
                if saved_step != step:
                    last_ckpt = _save(run_dir, step, ctx, model, optimizer, scaler, ema, sampler, cfg)
                raise stop.interrupted(f"at step {step}; checkpoint {last_ckpt or 'saved by rank 0'}; continue "
                                       "with --resume auto")
    finally:
        batches.close()  # stops the DataLoader's worker processes before the process group goes away
        stop.restore()
        logger.close()
    if ctx.distributed and not cfg.model.freeze_bn:
        # the last forward updated each rank's running statistics from its own batch: take rank 0's (the saved ones)
        for buffer in model.buffers():
            torch.distributed.broadcast(buffer, src=0)
    digest = weights_digest(model)
    if len(set(distributed.all_gather_objects(digest))) > 1:
        log.error("the ranks ended with different weights; check the DDP setup")
    return TrainResult(run_dir=run_dir, start_step=start, end_step=step, losses=tuple(logger.history),
                       last_checkpoint=last_ckpt, weights_digest=digest)


def _any_rank(flag: bool, ctx: distributed.DistContext) -> bool:
    """True on every rank when ``flag`` is true on any rank (one small all-reduce per step under torchrun)."""
    if not ctx.distributed:
        return flag
    return bool(distributed.all_reduce_mean(torch.tensor([float(flag)], device=ctx.device)).item() > 0)


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of a model's state (names, dtypes, shapes and values, in state_dict order)."""
    sha = hashlib.sha256()
    for name, value in model.state_dict().items():
        tensor = value.detach().cpu().contiguous()
        sha.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        # reshape(-1) first: a 0-dim tensor (BatchNorm's num_batches_tracked) cannot be viewed as bytes
        sha.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return sha.hexdigest()


def _save(run_dir: Path, step: int, ctx: distributed.DistContext, model: torch.nn.Module,
          optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, ema: Optional[ModelEma],
          sampler: ResumableBatchSampler, cfg: Any) -> Optional[Path]:
    """Gather every rank's RNG state and let rank 0 write the checkpoint (and the EMA model file)."""
    rng = distributed.all_gather_objects(ckpt.capture_rng_state())
    path = None
    if ctx.is_main:
        state = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                 "ema": ema.state_dict() if ema is not None else None,
                 "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(), "rng": rng,
                 "sampler": sampler.state_at_step(step),
                 "world_size": ctx.world_size, "config": dump_config(cfg)}
        path = ckpt.save_training_state(run_dir, step, state, cfg.train.keep_last)
        if ema is not None:
            ckpt.save_ema_weights(run_dir, step, ema.model_state_dict(model), cfg.train.keep_last)
        log.info("saved checkpoint %s", path)
    distributed.barrier()
    return path


def _restore(path: Path, ctx: distributed.DistContext, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
             scaler: torch.amp.GradScaler, ema: Optional[ModelEma],
             sampler: ResumableBatchSampler) -> tuple[int, tuple[int, int]]:
    """Load a training state on every rank; returns the step to continue from and the data position."""
    state = ckpt.load_training_state(path)
    step = int(state["step"])
    model.load_state_dict(state["model"], strict=True)
    try:
        optimizer.load_state_dict(state["optimizer"])
    except ValueError as err:
        raise ckpt.ResumeError(f"{path}: the optimiser state does not fit this model's parameter groups "
                               f"({err})") from err
    if state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    if ema is not None:
        if state.get("ema") is None:
            log.warning("%s holds no EMA state; the EMA restarts from the resumed weights", path)
        else:
            ema.load_state_dict(state["ema"])
    rng = state.get("rng") or []
    same_layout = len(rng) == ctx.world_size and state.get("sampler") == sampler.state_at_step(step)
    if same_layout:
        ckpt.restore_rng_state(rng[ctx.rank])
    else:
        log.warning("%s was written by %d processes with another data layout (%s); this run continues from the same "
                    "step correctly but not bit-identically", path, len(rng), state.get("sampler"))
    log.info("resumed from %s at step %d", path, step)
    return step, sampler.position_of_step(step)
