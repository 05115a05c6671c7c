#!/usr/bin/env bash
# Quickstart demo: set up, make a synthetic VOST-style dataset, train a small AOT-T for a few minutes, evaluate the
# EMA weights with unbounded, FIFO, RMem and EMFS memory, and print one J / J_tr table plus where the plots are.
# About 5-6 minutes on 2 CPU cores (a GPU is used when present).
#
# Usage: bash scripts/demo.sh
# Settings (environment variables, defaults in brackets):
#   VENV [.venv]            virtualenv to create or reuse        PYTHON [python3]  interpreter that creates it
#   DEMO_SKIP_INSTALL [0]   1: use VENV as it is (no pip install)
#   DEMO_OUT [outputs/demo] data, run folder, results and plots  DEMO_DEVICE [auto]  cpu, cuda or auto
#   DEMO_SEQUENCES [10]     synthetic sequences (40 % val)       DEMO_FRAMES [24]    frames per sequence
#   DEMO_HEIGHT [120]       frame height                         DEMO_WIDTH [160]    frame width
#   DEMO_STEPS [300]        training steps                       DEMO_CROP [97]      training crop side
#   DEMO_THREADS [2]        torch CPU threads (OMP_WAIT_POLICY defaults to PASSIVE: no spinning when the cores
#                           are shared, which otherwise slows 2-thread runs many times on a busy 2-core machine)
#   DEMO_MAX_RECENT [3]     memory.max_recent_frames of the bounded policies
#   DEMO_GAP [2]            memory.long_term_gap of every policy
#   DEMO_TRAIN_ARGS []      extra training overrides, e.g. "train.lr=1e-3 train.seed=1"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
DEMO_OUT="${DEMO_OUT:-outputs/demo}"
DEMO_DEVICE="${DEMO_DEVICE:-auto}"
DEMO_SEQUENCES="${DEMO_SEQUENCES:-10}"
DEMO_FRAMES="${DEMO_FRAMES:-24}"
DEMO_HEIGHT="${DEMO_HEIGHT:-120}"
DEMO_WIDTH="${DEMO_WIDTH:-160}"
DEMO_STEPS="${DEMO_STEPS:-300}"
DEMO_THREADS="${DEMO_THREADS:-2}"
DEMO_CROP="${DEMO_CROP:-97}"
DEMO_MAX_RECENT="${DEMO_MAX_RECENT:-3}"
DEMO_GAP="${DEMO_GAP:-2}"
POLICIES=(unbounded fifo rmem emfs)
CONFIG=configs/vost/aott_synthetic.yaml
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$DEMO_THREADS}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

step() { echo "[demo $(date +%H:%M:%S)] $*"; }
run_logged() {  # run_logged LOGFILE CMD...: quiet unless the command fails
    local logfile="$1"; shift
    if ! "$@" >"$logfile" 2>&1; then
        tail -n 30 "$logfile" >&2
        echo "[demo] failed: $* (full log: $logfile)" >&2
        exit 1
    fi
}

if [ "${DEMO_SKIP_INSTALL:-0}" != 1 ]; then
    step "setting up $VENV"
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
fi
PY="$VENV/bin/python"
mkdir -p "$DEMO_OUT/logs"
DATA="$DEMO_OUT/data"
RUN="$DEMO_OUT/train"
rm -rf "$RUN" "$DEMO_OUT/results"

step "generating $DEMO_SEQUENCES synthetic sequences of $DEMO_FRAMES frames (${DEMO_WIDTH}x$DEMO_HEIGHT) in $DATA"
run_logged "$DEMO_OUT/logs/data.log" "$PY" -m aot_plus.data.synthetic --out "$DATA" --sequences "$DEMO_SEQUENCES" \
    --frames "$DEMO_FRAMES" --height "$DEMO_HEIGHT" --width "$DEMO_WIDTH" --val-fraction 0.4 --seed 0 --overwrite

step "training AOT-T for $DEMO_STEPS steps (device $DEMO_DEVICE; log: $DEMO_OUT/logs/train.log)"
run_logged "$DEMO_OUT/logs/train.log" "$PY" -m aot_plus.train --config "$CONFIG" "data.vost.root=$DATA" \
    "train.output_dir=$RUN" "train.total_steps=$DEMO_STEPS" "train.save_every=$DEMO_STEPS" train.keep_last=1 \
    train.log_every=20 train.progress=false "train.device=$DEMO_DEVICE" "train.num_threads=$DEMO_THREADS" \
    "data.augment.crop_size=[$DEMO_CROP, $DEMO_CROP]" ${DEMO_TRAIN_ARGS:-}
CKPT="$(ls "$RUN"/ema/step_*.pth | sort | tail -n 1)"
grep -E "step [0-9]+/" "$DEMO_OUT/logs/train.log" | tail -n 1 | sed 's/^.*INFO [^:]*: /  last: /'

for policy in "${POLICIES[@]}"; do
    step "evaluating $CKPT with $policy memory"
    run_logged "$DEMO_OUT/logs/eval_$policy.log" "$PY" -m aot_plus.eval --config "$CONFIG" --dataset vost \
        --split val --ckpt "$CKPT" --output "$DEMO_OUT/results/$policy" --dataset-path "$DATA" --plots \
        "memory=$policy" "memory.max_recent_frames=$DEMO_MAX_RECENT" "memory.long_term_gap=$DEMO_GAP" \
        "eval.device=$DEMO_DEVICE" "eval.num_threads=$DEMO_THREADS" eval.skip_finished=false
done

step "summary (bounded policies: 1 reference + $DEMO_MAX_RECENT recent frames; gap $DEMO_GAP)"
results=()
for policy in "${POLICIES[@]}"; do
    results+=("$policy=$DEMO_OUT/results/$policy")
done
"$PY" scripts/demo_report.py --results "${results[@]}" --figure "$DEMO_OUT/memory_policies.png"
step "done in ${SECONDS}s"
