#!/usr/bin/env bash
# Evaluate a released (or your own) R50 AOT-L / DeAOT-L checkpoint on the VOST validation split with the reference
# settings of the RMem / EMFS seed tables: EMA weights, single scale, no flip, long side <= 1040, fp32, a bank of
# 1 reference + 8 recent frames, per-sequence long-term gap max(round(N / 30), 5); then print J_tr / J.
#
# Variables (environment):
#   MODEL         r50_aotl | r50_deaotl                      (default r50_deaotl)
#   MEMORY        fifo | rmem | emfs | unbounded             (default rmem; rmem/emfs pick the model's code path)
#   CKPT          checkpoint file                            (required)
#   GPUS          processes/GPUs; 0 = one CPU process         (default 1)
#   DATASET_PATH  VOST root (JPEGImages_10fps, Annotations, ImageSets)   (default ./datasets/VOST)
#   OUTPUT        results folder      (default ./results/vost_<MODEL>_<MEMORY>_<checkpoint name>)
#   PYTHON        interpreter         (default python)
#   DRY_RUN       when set, print the command instead of running it
# Extra arguments are passed to `python -m aot_plus.eval`, e.g. `--flip` or `eval.max_long_side=800`.
#
# Example (R50-DeAOT-L + RMem, expected J_tr 40.4 / J 51.8):
#   MODEL=r50_deaotl MEMORY=rmem CKPT=pretrain_models/aotplus_R50_DeAOTL_Temp_pe_Slot_4_ema_20000.pth \
#   GPUS=4 DATASET_PATH=datasets/VOST bash eval_vost.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PYTHONPATH="${repo}${PYTHONPATH:+:${PYTHONPATH}}"

MODEL="${MODEL:-r50_deaotl}"
MEMORY="${MEMORY:-rmem}"
CKPT="${CKPT:?set CKPT to the checkpoint file, e.g. CKPT=pretrain_models/AOT_EMFS.pth}"
GPUS="${GPUS:-1}"
DATASET_PATH="${DATASET_PATH:-./datasets/VOST}"
PYTHON="${PYTHON:-python}"

# shellcheck source=scripts/lib/vost_settings.sh
source "$repo/scripts/lib/vost_settings.sh"
# shellcheck source=scripts/lib/eval_run.sh
source "$repo/scripts/lib/eval_run.sh"
eval_setup vost

args=(--config "${repo}/configs/models/rmem_${MODEL}.yaml" "memory=${MEMORY}" "${bank[@]}"
      --dataset vost --split val --ckpt "$CKPT" --output "$OUTPUT" --dataset-path "$DATASET_PATH"
      eval.scales=[1.0] eval.flip=false eval.max_long_side=1040 eval.amp=false "eval.device=${device}" "$@")
echo "MODEL=$MODEL MEMORY=$MEMORY (configs/memory/${MEMORY}.yaml) CKPT=$CKPT GPUS=$GPUS -> $OUTPUT" >&2
eval_exec "${args[@]}"
