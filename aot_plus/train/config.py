"""Typed configuration of training (the ``train`` section): every recipe constant with the reference default.

The defaults are the RMem VOST stage as run by the reference ``train_vost.sh`` (``docs/training-recipe.md``):
AdamW, LR 2e-4 -> 1e-5 with a 5 % linear warm-up and poly(0.9) decay, encoder LR x0.1, weight decay 0.07 with
exemptions, clipping at 5, AMP, EMA, 0.5 top-k (15 %) cross-entropy + 0.5 soft Jaccard, a fading auxiliary loss,
teacher forcing for the first half of the run, long-term gap 4.

Related settings live in other sections: frozen encoder stages and DropPath in ``model`` (``freeze_at``,
``droppath``), the training bank bounds in ``memory`` (``reference_frames``, ``max_recent_frames``; training always
evicts first-in first-out, as the reference does), clip length, datasets and loader workers in ``data``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

#: How ``train.pretrained`` is loaded (``docs/training-recipe.md``, Initial weights).
PretrainedMode = Literal["full", "non_strict", "encoder", "imagenet"]


@dataclass(frozen=True)
class TrainConfig:
    """Training recipe, schedule, checkpointing and logging.

    Attributes:
        stage: label of the stage (``pre``, ``pre_ytb_dav``, ``pre_vost``, ``pre_vost_2``); only logged.
        output_dir: run folder; checkpoints go to ``ckpt/``, EMA model files to ``ema/``, logs to ``log/``.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``; under torchrun each rank uses
            ``cuda:LOCAL_RANK`` when this names CUDA without an index.
        total_steps: number of optimiser updates T (the reference performs one extra update at s = T, which it
            never saves; we stop at T).
        batch_size: global batch (sequences per step over all ranks); each rank takes ``batch_size // world``.
        optimizer: ``adamw`` (betas (0.9, 0.999), eps 1e-8) or ``sgd`` (Nesterov, ``sgd_momentum``).
        sgd_momentum: momentum of SGD.
        lr: base learning rate.
        lr_min: floor of the schedule (the warm-up starts here too).
        lr_warmup_ratio: linear warm-up length as a fraction of ``total_steps``.
        lr_power: exponent of the polynomial decay.
        lr_schedule: ``poly`` (reference) or ``cosine`` decay after the warm-up.
        encoder_lr_ratio: encoder groups get ``lr_min + ratio * (lr(s) - lr_min)``.
        weight_decay: decoupled weight decay of tensors with two or more dimensions.
        no_weight_decay_names: parameter-name components whose tensors get no weight decay (1-D tensors never
            get any: biases and norm weights).
        clip_grad_norm: total L2 norm bound of all gradients (after unscaling); 0 disables clipping.
        amp: autocast forward and losses on CUDA (always off on CPU).
        amp_dtype: autocast dtype; ``float16`` uses a gradient scaler, ``bfloat16`` does not need one.
        ema: keep an exponential moving average of the trainable weights (rank 0) and save it.
        ema_ratio: EMA decay cap is ``1 - 1 / (total_steps * ema_ratio)``; the warm-up ``(1+n)/(10+n)`` applies.
        top_k_percent_pixels: fraction of hardest pixels kept by the cross-entropy after hard mining.
        hard_mining_ratio: the kept fraction falls linearly from 1 to ``top_k_percent_pixels`` over this
            fraction of the run.
        ce_weight: weight of the top-k cross-entropy in each frame loss.
        jaccard_weight: weight of the soft Jaccard loss in each frame loss.
        aux_loss_weight: initial weight of the reference-frame (auxiliary) loss.
        aux_loss_ratio: the auxiliary weight fades linearly to 0 over this fraction of the run.
        long_term_gap: frames between long-term memory insertions in a training clip.
        seq_training_start_ratio: from this fraction of the run, memory frames use the model's own (detached)
            predictions instead of the ground truth, and ``seq_training_frozen_modules`` stop training.
        seq_training_frozen_modules: modules (dotted prefixes) whose LR and weight decay become 0 in sequence
            training.
        id_shuffle: draw a random permutation of the 10 identity slots per sample and step.
        pretrained: local file to initialise from (None: the model's own init).
        pretrained_mode: ``full`` (strict), ``non_strict`` (zoo -> VOST layout; reports skipped keys),
            ``encoder`` (only the ``encoder.*`` weights of a released checkpoint) or ``imagenet`` (a backbone file).
        seed: base seed; rank r seeds Python, NumPy and torch with ``seed + r``; the data order and every
            sample are functions of ``seed``, the epoch and the index, so a run is reproducible.
        deterministic: deterministic algorithms (and no cuDNN benchmark); needed for bit-exact resumes.
        save_every: write a checkpoint every this many steps (and at the end).
        keep_last: number of newest checkpoints (and EMA files) kept.
        log_every: log a line (losses, LR, speed, ETA, peak memory) every this many steps.
        tensorboard: also write scalars to ``log/tensorboard`` when the tensorboard package is installed.
        progress: show a tqdm progress bar (rank 0 only).
        stop_at_step: end this run after this step (as if interrupted; the schedules still use
            ``total_steps``). A checkpoint is written there.
        num_threads: torch CPU threads per process (None keeps torch's default).
        dist_timeout_s: process-group timeout in seconds.
    """

    stage: str = "pre_vost"
    output_dir: str = "outputs/train"
    device: str = "auto"
    total_steps: int = 20000
    batch_size: int = 8
    optimizer: Literal["adamw", "sgd"] = "adamw"
    sgd_momentum: float = 0.9
    lr: float = 2e-4
    lr_min: float = 1e-5
    lr_warmup_ratio: float = 0.05
    lr_power: float = 0.9
    lr_schedule: Literal["poly", "cosine"] = "poly"
    encoder_lr_ratio: float = 0.1
    weight_decay: float = 0.07
    no_weight_decay_names: tuple[str, ...] = (
        "absolute_pos_embed", "relative_position_bias_table", "relative_emb_v", "conv_out")
    clip_grad_norm: float = 5.0
    amp: bool = True
    amp_dtype: Literal["float16", "bfloat16"] = "float16"
    ema: bool = True
    ema_ratio: float = 0.1
    top_k_percent_pixels: float = 0.15
    hard_mining_ratio: float = 0.5
    ce_weight: float = 0.5
    jaccard_weight: float = 0.5
    aux_loss_weight: float = 1.0
    aux_loss_ratio: float = 1.0
    long_term_gap: int = 4
    seq_training_start_ratio: float = 0.5
    seq_training_frozen_modules: tuple[str, ...] = ("patch_wise_id_bank",)
    id_shuffle: bool = True
    pretrained: Optional[str] = None
    pretrained_mode: PretrainedMode = "non_strict"
    seed: int = 0
    deterministic: bool = False
    save_every: int = 500
    keep_last: int = 8
    log_every: int = 20
    tensorboard: bool = True
    progress: bool = True
    stop_at_step: Optional[int] = None
    num_threads: Optional[int] = None
    dist_timeout_s: int = 1800

    def __post_init__(self) -> None:
        positive = {"total_steps": self.total_steps, "batch_size": self.batch_size, "save_every": self.save_every,
                    "keep_last": self.keep_last, "log_every": self.log_every, "long_term_gap": self.long_term_gap,
                    "dist_timeout_s": self.dist_timeout_s}
        for key, value in positive.items():
            if value < 1:
                raise ValueError(f"train.{key} must be >= 1, got {value}")
        if self.lr_min < 0 or self.lr < self.lr_min:
            raise ValueError(f"train.lr ({self.lr}) must be >= train.lr_min ({self.lr_min}) >= 0")
        if not 0.0 < self.top_k_percent_pixels <= 1.0:
            raise ValueError(f"train.top_k_percent_pixels must lie in (0, 1], got {self.top_k_percent_pixels}")
        for key in ("lr_warmup_ratio", "hard_mining_ratio", "seq_training_start_ratio", "aux_loss_ratio",
                    "ema_ratio"):
            if getattr(self, key) < 0:
                raise ValueError(f"train.{key} must be >= 0, got {getattr(self, key)}")
        if self.clip_grad_norm < 0:
            raise ValueError(f"train.clip_grad_norm must be >= 0, got {self.clip_grad_norm}")
        if self.stop_at_step is not None and not 0 < self.stop_at_step <= self.total_steps:
            raise ValueError(f"train.stop_at_step must lie in [1, total_steps], got {self.stop_at_step}")

    @property
    def warmup_steps(self) -> float:
        """Length W of the linear warm-up, in steps (may be fractional, as in the reference)."""
        return self.lr_warmup_ratio * self.total_steps

    @property
    def seq_training_start(self) -> int:
        """First step that trains on the model's own predictions (``floor(ratio * T)``)."""
        return int(self.seq_training_start_ratio * self.total_steps)

    @property
    def ema_decay(self) -> float:
        """Cap of the EMA decay, ``1 - 1 / (T * ema_ratio)`` (0 for runs shorter than ``1 / ema_ratio`` steps)."""
        span = self.total_steps * self.ema_ratio
        return 1.0 - 1.0 / span if span > 1 else 0.0
