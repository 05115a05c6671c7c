#!/usr/bin/env bash
# Fine-tune an AOT model-zoo checkpoint on VOST with the RMem / EMFS recipe (stage pre_vost_2: 17-frame clips,
# 20,000 steps, AdamW 2e-4 poly, AMP, EMA, long-term gap 4, a 1 + 8 frame bank evicted first-in first-out), then
# hand the newest EMA weights to eval_vost.sh.
#
# Variables (environment):
#   MODEL         r50_aotl | r50_deaotl                                    (default r50_deaotl)
#   MEMORY        rmem | emfs | fifo | unbounded: the policy evaluated afterwards   (default rmem)
#   GPUS          processes, one per GPU; 0 = one CPU process               (default 4)
#   BATCH         global batch, split over the processes (reference: 8 over 4 GPUs)   (default 8)
#   PRETRAINED    model-zoo file, loaded non-strictly into the VOST layout
#                 (default pretrain_models/R50_AOTL_PRE_YTB_DAV.pth or R50_DeAOTL_PRE_YTB_DAV.pth)
#   DATASET_PATH  VOST root (JPEGImages, Annotations, ImageSets)            (default ./datasets/VOST)
#   STAGE         pre_vost_2 (the reference script) | pre_vost (15-frame clips)   (default pre_vost_2)
#   OUTPUT        run folder                           (default ./outputs/vost/<MODEL>_<MEMORY>_<STAGE>)
#   RESUME        auto (continue the run in OUTPUT if it has checkpoints) | none | a checkpoint file (default auto)
#   TORCHRUN_ARGS launcher arguments (default --standalone; multi-node: --nnodes 2 --node_rank 0
#                 --rdzv_backend c10d --rdzv_endpoint HOST:PORT)
#   EVAL          1 = run eval_vost.sh on the newest EMA checkpoint afterwards, 0 = skip   (default 1)
#   PYTHON        interpreter                                               (default python)
#   DRY_RUN       when set, print the commands instead of running them
# Extra arguments are config overrides for `python -m aot_plus.train`, e.g. train.total_steps=2000.
#
# Example (R50-AOT-L, evaluated with RMem; the released model scored J_tr 39.8 / J 50.5):
#   MODEL=r50_aotl MEMORY=rmem GPUS=4 BATCH=8 PRETRAINED=pretrain_models/R50_AOTL_PRE_YTB_DAV.pth \
#   DATASET_PATH=datasets/VOST bash train_vost.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PYTHONPATH="${repo}${PYTHONPATH:+:${PYTHONPATH}}"

MODEL="${MODEL:-r50_deaotl}"
MEMORY="${MEMORY:-rmem}"
GPUS="${GPUS:-4}"
BATCH="${BATCH:-8}"
DATASET_PATH="${DATASET_PATH:-./datasets/VOST}"
STAGE="${STAGE:-pre_vost_2}"
RESUME="${RESUME:-auto}"
TORCHRUN_ARGS="${TORCHRUN_ARGS:---standalone}"
EVAL="${EVAL:-1}"
PYTHON="${PYTHON:-python}"

# shellcheck source=scripts/lib/vost_settings.sh
source "$repo/scripts/lib/vost_settings.sh"
case "$MODEL" in
    r50_aotl) zoo=R50_AOTL ;;
    r50_deaotl) zoo=R50_DeAOTL ;;
esac
case "$STAGE" in
    pre_vost|pre_vost_2) ;;
    *) echo "error: STAGE must be pre_vost or pre_vost_2, got '$STAGE'" >&2; exit 2 ;;
esac
case "$BATCH" in
    ''|*[!0-9]*|0) echo "error: BATCH must be a positive number, got '$BATCH'" >&2; exit 2 ;;
esac
PRETRAINED="${PRETRAINED:-pretrain_models/${zoo}_PRE_YTB_DAV.pth}"
OUTPUT="${OUTPUT:-./outputs/vost/${MODEL}_${MEMORY}_${STAGE}}"

device=cuda
if [ "$GPUS" -eq 0 ]; then device=cpu; fi
procs=$(( GPUS > 1 ? GPUS : 1 ))
if [ $(( BATCH % procs )) -ne 0 ]; then
    echo "error: BATCH=$BATCH does not divide over $procs processes (GPUS)" >&2
    exit 2
fi

args=(--config "${repo}/configs/stages/${STAGE}.yaml" "model=rmem_${MODEL}" "memory=${MEMORY}"
      "data.vost.root=${DATASET_PATH}" "train.pretrained=${PRETRAINED}" "train.batch_size=${BATCH}"
      "train.output_dir=${OUTPUT}" "train.device=${device}" "$@")
if [ "$RESUME" != none ]; then args+=(--resume "$RESUME"); fi
if [ "$GPUS" -gt 1 ]; then
    # shellcheck disable=SC2206  # TORCHRUN_ARGS is a list of launcher arguments
    cmd=("$PYTHON" -m torch.distributed.run ${TORCHRUN_ARGS} --nproc_per_node "$GPUS" -m aot_plus.train "${args[@]}")
else
    cmd=("$PYTHON" -m aot_plus.train "${args[@]}")
fi

echo "MODEL=$MODEL MEMORY=$MEMORY STAGE=$STAGE GPUS=$GPUS BATCH=$BATCH PRETRAINED=$PRETRAINED -> $OUTPUT" >&2
if [ -n "${DRY_RUN:-}" ]; then
    printf '%q ' "${cmd[@]}"
    printf '\n'
else
    "${cmd[@]}"
fi

if [ "$EVAL" != 1 ]; then
    exit 0
fi
if [ ! -f "${repo}/eval_vost.sh" ]; then
    echo "eval_vost.sh not found: evaluate the newest file of ${OUTPUT}/ema/ with the evaluator" >&2
    exit 0
fi
if [ -n "${DRY_RUN:-}" ]; then
    echo "then: MODEL=$MODEL MEMORY=$MEMORY CKPT=<newest ${OUTPUT}/ema/step_*.pth> GPUS=$GPUS bash eval_vost.sh" >&2
    exit 0
fi
ckpt="$(ls -1 "${OUTPUT}"/ema/step_*.pth 2>/dev/null | tail -n 1 || true)"
if [ -z "$ckpt" ]; then
    echo "error: no EMA checkpoint in ${OUTPUT}/ema (did training run with train.ema=true?)" >&2
    exit 1
fi
MODEL="$MODEL" MEMORY="$MEMORY" CKPT="$ckpt" GPUS="$GPUS" DATASET_PATH="$DATASET_PATH" PYTHON="$PYTHON" \
    bash "${repo}/eval_vost.sh"
