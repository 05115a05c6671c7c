#!/usr/bin/env bash
# Evaluate a released (or your own) R50 AOT-L / DeAOT-L checkpoint on one benchmark with the settings of its
# configs/benchmarks/<BENCHMARK>.yaml (frames, resize rule, metric), the memory bank of the RMem / EMFS tables
# (1 reference + 8 recent frames, per-sequence long-term gap); then print the metric's tables.
# BENCHMARK=vost resolves to the same settings as eval_vost.sh.
#
# Variables (environment):
#   BENCHMARK     vost | davis2017 | youtubevos | lvos | long_videos   (default vost)
#   MODEL         r50_aotl | r50_deaotl                      (default r50_deaotl)
#   MEMORY        fifo | rmem | emfs | unbounded             (default rmem; rmem/emfs pick the model's code path)
#   CKPT          checkpoint file                            (required)
#   GPUS          processes/GPUs; 0 = one CPU process         (default 1)
#   DATASET_PATH  dataset root (default: the benchmark config's root, e.g. ./datasets/LVOS)
#   SPLIT         split (default: val; valid for youtubevos and lvos)
#   UNSEEN_LIST   lvos only: the LVOS toolkit's unseen_videos.txt of your LVOS version (seen / unseen means)
#   OUTPUT        results folder      (default ./results/<BENCHMARK>_<MODEL>_<MEMORY>_<checkpoint name>)
#   PYTHON        interpreter         (default python)
#   DRY_RUN       when set, print the command instead of running it
# Extra arguments are passed to `python -m aot_plus.eval`, e.g. `--flip` or `eval.max_long_side=800`.
#
# Example (R50-AOT-L + RMem on LVOS v2 validation):
#   BENCHMARK=lvos MODEL=r50_aotl MEMORY=rmem CKPT=pretrain_models/model.pth DATASET_PATH=datasets/LVOS_v2 \
#   UNSEEN_LIST=lvos-evaluation/unseen_videos.txt GPUS=1 bash scripts/eval_benchmark.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="${repo}${PYTHONPATH:+:${PYTHONPATH}}"

BENCHMARK="${BENCHMARK:-vost}"
MODEL="${MODEL:-r50_deaotl}"
MEMORY="${MEMORY:-rmem}"
CKPT="${CKPT:?set CKPT to the checkpoint file, e.g. CKPT=pretrain_models/AOT_EMFS.pth}"
GPUS="${GPUS:-1}"
PYTHON="${PYTHON:-python}"

case "$BENCHMARK" in
    vost) dataset=vost; split=val ;;
    davis2017) dataset=davis; split=val ;;
    youtubevos) dataset=youtubevos; split=valid ;;
    lvos) dataset=lvos; split=valid ;;
    long_videos) dataset=long_videos; split=val ;;
    *) echo "error: BENCHMARK must be vost, davis2017, youtubevos, lvos or long_videos, got '$BENCHMARK'" >&2
       exit 2 ;;
esac
SPLIT="${SPLIT:-$split}"
if [ -n "${UNSEEN_LIST:-}" ] && [ "$BENCHMARK" != lvos ]; then
    echo "error: UNSEEN_LIST applies to BENCHMARK=lvos only" >&2
    exit 2
fi

# shellcheck source=scripts/lib/vost_settings.sh
source "$repo/scripts/lib/vost_settings.sh"
# shellcheck source=scripts/lib/eval_run.sh
source "$repo/scripts/lib/eval_run.sh"
eval_setup "$BENCHMARK"
extra=()
if [ -n "${DATASET_PATH:-}" ]; then extra+=(--dataset-path "$DATASET_PATH"); fi
if [ -n "${UNSEEN_LIST:-}" ]; then extra+=("data.lvos.unseen_list=${UNSEEN_LIST}"); fi

args=(--config "${repo}/configs/benchmarks/${BENCHMARK}.yaml" "model=rmem_${MODEL}" "memory=${MEMORY}"
      "${bank[@]}" --dataset "$dataset" --split "$SPLIT" --ckpt "$CKPT" --output "$OUTPUT" "${extra[@]}"
      "eval.device=${device}" "$@")
echo "BENCHMARK=$BENCHMARK MODEL=$MODEL MEMORY=$MEMORY (configs/memory/${MEMORY}.yaml) CKPT=$CKPT GPUS=$GPUS" \
     "-> $OUTPUT" >&2
eval_exec "${args[@]}"
