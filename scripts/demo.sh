#!/usr/bin/env bash
# Quickstart demo: set up, make synthetic VOST-style validation videos (60-120 frames, with state changes, long
# absences, look-alike distractors and camera motion: aot_plus/data/README.md), segment them with the shipped demo
# AOT-T (checkpoints/demo/, trained from scratch on CPU with this repository's trainer) under unbounded, FIFO, RMem
# and EMFS memory (1 reference + DEMO_MAX_RECENT recent frames) and FIFO with a larger bank, and print one table
# (J, J_tr, largest bank, ms per frame, peak memory) plus where the plots are. About 5 minutes on 2 CPU cores
# (a GPU is used when present). DEMO_TRAIN=1 first trains a new model with the fast from-scratch recipe
# (configs/stages/synthetic.yaml) on a freshly generated dataset and evaluates that one instead.
#
# Usage: bash scripts/demo.sh
# Settings (environment variables, defaults in brackets):
#   VENV [.venv]            virtualenv to create or reuse        PYTHON [python3]  interpreter that creates it
#   DEMO_SKIP_INSTALL [0]   1: use VENV as it is (no pip install)
#   DEMO_OUT [outputs/demo] data, run folder, results and plots  DEMO_DEVICE [auto]  cpu, cuda or auto
#   DEMO_CKPT [checkpoints/demo/aott_synthetic_demo.pth]  model evaluated when DEMO_TRAIN=0; its validation
#                           videos are generated with the settings in checkpoints/demo/data.args
#   DEMO_THREADS [2]        torch CPU threads (OMP_WAIT_POLICY defaults to PASSIVE: no spinning when the cores
#                           are shared, which otherwise slows 2-thread runs many times on a busy 2-core machine)
#   DEMO_MAX_RECENT [3]     memory.max_recent_frames of the bounded policies
#   DEMO_LARGE_RECENT [8]   memory.max_recent_frames of the extra FIFO row (fifo_<N>); empty: no extra row
#   DEMO_GAP [2]            memory.long_term_gap of every policy
# With DEMO_TRAIN=1 (retrain with the fast recipe, a few minutes):
#   DEMO_SEQUENCES [16]     synthetic sequences (25 % val)       DEMO_FRAMES [24]    frames per training sequence
#   DEMO_VAL_FRAMES [60]    frames per validation sequence       DEMO_HEIGHT [120]   DEMO_WIDTH [160]  frame size
#   DEMO_STEPS [300]        training steps                       DEMO_CROP [97]      training crop side
#   DEMO_TRAIN_ARGS []      extra training overrides, e.g. "train.lr=1e-3 train.seed=1"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
DEMO_OUT="${DEMO_OUT:-outputs/demo}"
DEMO_DEVICE="${DEMO_DEVICE:-auto}"
DEMO_TRAIN="${DEMO_TRAIN:-0}"
DEMO_CKPT="${DEMO_CKPT:-checkpoints/demo/aott_synthetic_demo.pth}"
DEMO_SEQUENCES="${DEMO_SEQUENCES:-16}"
DEMO_FRAMES="${DEMO_FRAMES:-24}"
DEMO_VAL_FRAMES="${DEMO_VAL_FRAMES:-60}"
DEMO_HEIGHT="${DEMO_HEIGHT:-120}"
DEMO_WIDTH="${DEMO_WIDTH:-160}"
DEMO_STEPS="${DEMO_STEPS:-300}"
DEMO_THREADS="${DEMO_THREADS:-2}"
DEMO_CROP="${DEMO_CROP:-97}"
DEMO_MAX_RECENT="${DEMO_MAX_RECENT:-3}"
DEMO_LARGE_RECENT="${DEMO_LARGE_RECENT-8}"
DEMO_GAP="${DEMO_GAP:-2}"
CONFIG=configs/vost/aott_synthetic.yaml
DATA_ARGS_FILE=checkpoints/demo/data.args
# rows of the table: name, memory policy, memory.max_recent_frames
ROWS=("unbounded unbounded $DEMO_MAX_RECENT" "fifo fifo $DEMO_MAX_RECENT" "rmem rmem $DEMO_MAX_RECENT"
      "emfs emfs $DEMO_MAX_RECENT")
if [ -n "$DEMO_LARGE_RECENT" ]; then
    ROWS+=("fifo_$DEMO_LARGE_RECENT fifo $DEMO_LARGE_RECENT")
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$DEMO_THREADS}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

step() { echo "[demo $(date +%H:%M:%S)] $*"; }
fail() { echo "[demo] $*" >&2; exit 1; }
run_logged() {  # run_logged LOGFILE CMD...: quiet unless the command fails
    local logfile="$1"; shift
    if ! "$@" >"$logfile" 2>&1; then
        tail -n 30 "$logfile" >&2
        fail "failed: $* (full log: $logfile)"
    fi
}

case "$DEMO_TRAIN" in
    0|1) ;;
    *) fail "DEMO_TRAIN must be 0 or 1, got '$DEMO_TRAIN'" ;;
esac
if [ "$DEMO_TRAIN" = 0 ]; then
    [ -f "$DEMO_CKPT" ] || fail "DEMO_CKPT: no such file '$DEMO_CKPT' (DEMO_TRAIN=1 trains a model instead)"
    [ -f "$DATA_ARGS_FILE" ] || fail "$DATA_ARGS_FILE is missing: it holds the demo model's data settings"
fi

# DEMO_OUT is the demo's own folder: it replaces its train/ and results/ folders on every run, so it refuses a
# folder that holds anything it did not write (marked by .aot_plus_demo, or only the names a demo run creates).
DEMO_MARK="$DEMO_OUT/.aot_plus_demo"
if [ -d "$DEMO_OUT" ] && [ ! -e "$DEMO_MARK" ]; then
    for entry in "$DEMO_OUT"/* "$DEMO_OUT"/.[!.]*; do
        [ -e "$entry" ] || continue
        case "$(basename "$entry")" in
            data|logs|train|results|memory_policies.png) ;;
            *) fail "DEMO_OUT: '$DEMO_OUT' holds '$(basename "$entry")', which the demo did not write; choose a new or empty folder" ;;
        esac
    done
elif [ -e "$DEMO_OUT" ] && [ ! -d "$DEMO_OUT" ]; then
    fail "DEMO_OUT: '$DEMO_OUT' is a file, expected a folder"
fi
mkdir -p "$DEMO_OUT"
touch "$DEMO_MARK"

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

if [ "$DEMO_TRAIN" = 0 ]; then
    read -r -a DATA_ARGS < "$DATA_ARGS_FILE"
    step "generating the demo model's synthetic validation videos ($(tr -s ' ' <"$DATA_ARGS_FILE")) in $DATA"
    run_logged "$DEMO_OUT/logs/data.log" "$PY" -m aot_plus.data.synthetic --out "$DATA" "${DATA_ARGS[@]}" \
        --only val --overwrite
    CKPT="$DEMO_CKPT"
else
    step "generating $DEMO_SEQUENCES synthetic sequences (${DEMO_WIDTH}x$DEMO_HEIGHT; $DEMO_FRAMES frames, val" \
        "$DEMO_VAL_FRAMES) in $DATA"
    run_logged "$DEMO_OUT/logs/data.log" "$PY" -m aot_plus.data.synthetic --out "$DATA" \
        --sequences "$DEMO_SEQUENCES" --frames "$DEMO_FRAMES" --val-frames "$DEMO_VAL_FRAMES" \
        --height "$DEMO_HEIGHT" --width "$DEMO_WIDTH" --val-fraction 0.25 --seed 0 --overwrite
    step "training AOT-T from scratch for $DEMO_STEPS steps (device $DEMO_DEVICE; log: $DEMO_OUT/logs/train.log)"
    run_logged "$DEMO_OUT/logs/train.log" "$PY" -m aot_plus.train --config "$CONFIG" "data.vost.root=$DATA" \
        "train.output_dir=$RUN" "train.total_steps=$DEMO_STEPS" "train.save_every=$DEMO_STEPS" train.keep_last=1 \
        train.log_every=20 train.progress=false "train.device=$DEMO_DEVICE" "train.num_threads=$DEMO_THREADS" \
        "data.augment.crop_size=[$DEMO_CROP, $DEMO_CROP]" ${DEMO_TRAIN_ARGS:-}
    CKPT="$(ls "$RUN"/ema/step_*.pth | sort | tail -n 1)"
    grep -E "step [0-9]+/" "$DEMO_OUT/logs/train.log" | tail -n 1 | sed 's/^.*INFO [^:]*: /  last: /'
fi

results=()
for row in "${ROWS[@]}"; do
    read -r name policy recent <<<"$row"
    step "evaluating $CKPT with $policy memory (1 + $recent recent frames where bounded)"
    run_logged "$DEMO_OUT/logs/eval_$name.log" "$PY" -m aot_plus.eval --config "$CONFIG" --dataset vost \
        --split val --ckpt "$CKPT" --output "$DEMO_OUT/results/$name" --dataset-path "$DATA" --plots \
        "memory=$policy" "memory.max_recent_frames=$recent" "memory.long_term_gap=$DEMO_GAP" \
        "eval.device=$DEMO_DEVICE" "eval.num_threads=$DEMO_THREADS" eval.skip_finished=false
    results+=("$name=$DEMO_OUT/results/$name")
done

step "summary (model $CKPT; bounded policies: 1 reference + $DEMO_MAX_RECENT recent frames unless named" \
    "otherwise; gap $DEMO_GAP)"
"$PY" scripts/demo_report.py --results "${results[@]}" --figure "$DEMO_OUT/memory_policies.png"
step "done in ${SECONDS}s"
