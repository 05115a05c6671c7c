#!/usr/bin/env bash
# RMem's VOST ablations as one resumable sweep: bank size x eviction rule with an R50 AOT-L / DeAOT-L checkpoint,
# the reference evaluation settings of eval_vost.sh (EMA weights, single scale, no flip, long side <= 1040, fp32,
# per-sequence long-term gap), each point evaluated into OUTPUT/points/<point>; then OUTPUT/sweep.{csv,md,png}.
# Rerunning the same command computes only the missing points (see docs/memory-ablations.md).
#
# Variables (environment):
#   MODEL         r50_aotl | r50_deaotl                                       (default r50_deaotl)
#   CKPT          checkpoint file                                             (required)
#   POLICIES      comma-separated memory presets; rmem/emfs take the model's code path
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

memory_files=()
IFS=',' read -r -a policies <<< "$POLICIES"
for policy in "${policies[@]}"; do
    case "$policy" in
        fifo|rmem|emfs|unbounded)  # the preset of the model's code path, as eval_vost.sh picks it
            memory_files+=("$(MEMORY="$policy"; source "$repo/scripts/lib/vost_settings.sh"; echo "$memory_file")") ;;
        *)
            if [ ! -f "$repo/configs/memory/${policy}.yaml" ]; then
                echo "error: POLICIES lists '$policy' but configs/memory/${policy}.yaml does not exist" >&2
                exit 2
            fi
            memory_files+=("$policy") ;;
    esac
done
MEMORY=fifo
# shellcheck source=scripts/lib/vost_settings.sh
source "$repo/scripts/lib/vost_settings.sh"
if [ ! -f "$CKPT" ]; then
    echo "error: checkpoint file $CKPT does not exist (CKPT)" >&2
    exit 2
fi
ckpt_name="$(basename "$CKPT")"
OUTPUT="${OUTPUT:-./results/sweep_vost_${MODEL}_${ckpt_name%.*}}"
device=cuda
if [ "$GPUS" -eq 0 ]; then device=cpu; fi
memory_axis="$(IFS=','; echo "${memory_files[*]}")"

args=(--config "${repo}/configs/models/rmem_${MODEL}.yaml" memory.reference_frames=1
      --axis "memory=${memory_axis}" --axis "memory.max_recent_frames=${SIZES}"
      --dataset vost --split val --ckpt "$CKPT" --output "$OUTPUT" --dataset-path "$DATASET_PATH"
      eval.scales=[1.0] eval.flip=false eval.max_long_side=1040 eval.amp=false "eval.device=${device}" "$@")
if [ "$GPUS" -gt 1 ]; then
    cmd=("$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$GPUS" -m aot_plus.sweep "${args[@]}")
else
    cmd=("$PYTHON" -m aot_plus.sweep "${args[@]}")
fi

echo "MODEL=$MODEL POLICIES=$memory_axis SIZES=$SIZES CKPT=$CKPT GPUS=$GPUS -> $OUTPUT" >&2
if [ -n "${DRY_RUN:-}" ]; then
    printf '%q ' "${cmd[@]}"
    printf '\n'
    exit 0
fi
exec "${cmd[@]}"
