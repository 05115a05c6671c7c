#!/usr/bin/env bash
# RMem's VOST ablations as one resumable sweep: bank size x eviction rule with an R50 AOT-L / DeAOT-L checkpoint,
# the reference evaluation settings of eval_vost.sh (EMA weights, single scale, no flip, long side <= 1040, fp32,
# per-sequence long-term gap), each point evaluated into OUTPUT/points/<point>; then OUTPUT/sweep.{csv,md,png}.
# Rerunning the same command computes only the missing points (see docs/memory-ablations.md).
#
# Variables (environment):
#   MODEL         r50_aotl | r50_deaotl                                       (default r50_deaotl)
#   CKPT          checkpoint file                                             (required)
#   POLICIES      comma-separated configs/memory presets (their family constants resolve from the model)
#                 (default fifo,rmem,random,drop_oldest_any,drop_newest)
#   SIZES         comma-separated memory.max_recent_frames values             (default 3,5,8,12,20)
#   GPUS          processes/GPUs, each taking whole points; 0 = one CPU process (default 1)
#   DATASET_PATH  VOST root (JPEGImages_10fps, Annotations, ImageSets)        (default ./datasets/VOST)
#   OUTPUT        sweep folder        (default ./results/sweep_vost_<MODEL>_<checkpoint name>)
#   PYTHON        interpreter         (default python)
#   DRY_RUN       when set, print the command instead of running it
# Extra arguments go to `python -m aot_plus.sweep`, e.g. another `--axis model.temporal_pe.kind=learned,sinusoidal`.
#
# Example (the bank-size and eviction-rule tables, 25 points on 4 GPUs):
#   MODEL=r50_deaotl CKPT=pretrain_models/aotplus_R50_DeAOTL_Temp_pe_Slot_4_ema_20000.pth GPUS=4 \
#   bash scripts/sweep_vost.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="${repo}${PYTHONPATH:+:${PYTHONPATH}}"

MODEL="${MODEL:-r50_deaotl}"
CKPT="${CKPT:?set CKPT to the checkpoint file, e.g. CKPT=pretrain_models/aotplus_R50_DeAOTL_Temp_pe_Slot_4_ema_20000.pth}"
POLICIES="${POLICIES:-fifo,rmem,random,drop_oldest_any,drop_newest}"
SIZES="${SIZES:-3,5,8,12,20}"
GPUS="${GPUS:-1}"
DATASET_PATH="${DATASET_PATH:-./datasets/VOST}"
PYTHON="${PYTHON:-python}"

IFS=',' read -r -a policies <<< "$POLICIES"
for policy in "${policies[@]}"; do
    if [ ! -f "$repo/configs/memory/${policy}.yaml" ]; then
        echo "error: POLICIES lists '$policy' but configs/memory/${policy}.yaml does not exist" >&2
        exit 2
    fi
done
MEMORY=fifo  # vost_settings.sh checks one memory name; the sweep's come from POLICIES
# shellcheck source=scripts/lib/vost_settings.sh
source "$repo/scripts/lib/vost_settings.sh"
# shellcheck source=scripts/lib/eval_run.sh
source "$repo/scripts/lib/eval_run.sh"
ckpt_name="$(basename "${CKPT}")"
OUTPUT="${OUTPUT:-./results/sweep_vost_${MODEL}_${ckpt_name%.*}}"
eval_setup sweep_vost
eval_module=aot_plus.sweep

args=(--config "${repo}/configs/models/rmem_${MODEL}.yaml" memory.reference_frames=1
      --axis "memory=${POLICIES}" --axis "memory.max_recent_frames=${SIZES}"
      --dataset vost --split val --ckpt "$CKPT" --output "$OUTPUT" --dataset-path "$DATASET_PATH"
      eval.scales=[1.0] eval.flip=false eval.max_long_side=1040 eval.amp=false "eval.device=${device}" "$@")
echo "MODEL=$MODEL POLICIES=$POLICIES SIZES=$SIZES CKPT=$CKPT GPUS=$GPUS -> $OUTPUT" >&2
eval_exec "${args[@]}"
