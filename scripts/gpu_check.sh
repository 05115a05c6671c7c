#!/usr/bin/env bash
# The prepared device check: one call on a machine with a CUDA GPU, under 8 minutes, writing one JSON report and a
# short text summary under OUT.
#
# Usage: bash scripts/gpu_check.sh [--dry-run] OUT
#   --dry-run   print every command and check its arguments (configs resolve, options exist, the cuda tests are
#               collected, the benchmark plan is valid) without running anything on a GPU; works on CPU.
# Steps (each under its own time limit; a failing step is recorded and the next one still runs):
#   1. env       torch / CUDA / GPU versions
#   2. tests     pytest -m cuda: AMP fp16 and bf16 training steps, a 1-process torchrun with NCCL, the static and
#                compiled inference paths against eager
#   3. data      a synthetic VOST-layout dataset larger than the training crop (random content)
#   4. train     20 AMP training steps of R50-DeAOT-L at the VOST crop size (465 x 465), random initialisation
#   5. bench     scripts/bench.py: R50-DeAOT-L + RMem 1 + 8 at 480 x 854, 2 objects, fp32 / bf16 / bf16 + compile,
#                100 and 1,000 frames
# Output: OUT/gpu_check.json (every step: command, exit status, seconds, log; the benchmark rows; the environment),
# OUT/summary.txt, and the logs and artefacts of every step under OUT/. OUT must be new, empty, or an earlier
# gpu_check folder (it carries the .gpu_check marker); other folders are refused.
# Settings: PYTHON [python3] the interpreter (torch with CUDA and this package's requirements installed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

DRY_RUN=0
OUT=""
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "gpu_check.sh: unknown option $arg (expected --dry-run and an output folder)" >&2; exit 2 ;;
        *) if [ -n "$OUT" ]; then echo "gpu_check.sh: one output folder expected, got '$OUT' and '$arg'" >&2; exit 2; fi
           OUT="$arg" ;;
    esac
done
if [ -z "$OUT" ]; then
    echo "gpu_check.sh: missing the output folder (usage: bash scripts/gpu_check.sh [--dry-run] OUT)" >&2
    exit 2
fi
MARKER="$OUT/.gpu_check"
if [ -e "$OUT" ] && [ ! -d "$OUT" ]; then
    echo "gpu_check.sh: $OUT exists and is not a folder" >&2
    exit 2
fi
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$MARKER" ]; then
    echo "gpu_check.sh: $OUT is not empty and was not written by gpu_check.sh (no .gpu_check marker); pick a new folder" >&2
    exit 2
fi
if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "gpu_check.sh: $PY cannot import torch (set PYTHON to an interpreter with torch and the requirements)" >&2
    exit 2
fi

# The commands; arguments are the same in a dry run and a real one.
DATA="$OUT/data"
CUDA_TESTS=(tests/train/test_cuda_training.py tests/engine/test_static_memory.py tests/engine/test_frame_step.py)
CMD_ENV=("$PY" scripts/lib/gpu_check_report.py env "$OUT/env.json")
CMD_TESTS=("$PY" -m pytest -q -m cuda -p no:cacheprovider "--junitxml=$OUT/tests.xml" "${CUDA_TESTS[@]}")
CMD_DATA=("$PY" -m aot_plus.data.synthetic --out "$DATA" --sequences 4 --frames 40 --height 480 --width 854
          --val-fraction 0.25 --seed 0 --overwrite)
TRAIN_ARGS=(--config configs/vost/r50_deaotl_rmem.yaml "data.vost.root=$DATA" "train.output_dir=$OUT/train"
            train.device=cuda train.total_steps=20 train.batch_size=4 train.amp=true train.amp_dtype=float16
            train.pretrained=null train.save_every=20 train.keep_last=1 train.log_every=1 train.progress=false
            train.tensorboard=false data.num_workers=4)
CMD_TRAIN=("$PY" -m aot_plus.train "${TRAIN_ARGS[@]}")
BENCH_ARGS=(--model rmem_r50_deaotl --policies rmem --size 480x854 --objects 2 --gap 5 --max-recent 8
            --modes fp32 bf16 bf16+compile --storages static --lengths 100 1000 --warmup 10 --device cuda
            --out "$OUT/bench")
CMD_BENCH=("$PY" scripts/bench.py "${BENCH_ARGS[@]}")
CMD_REPORT=("$PY" scripts/lib/gpu_check_report.py report "$OUT")

show() { printf '%q ' "$@"; printf '\n'; }

if [ "$DRY_RUN" = 1 ]; then
    failed=0
    check() {  # check WHAT CMD...: run a checking command quietly; report one line
        local what="$1"; shift
        local log
        if log=$("$@" 2>&1); then
            echo "  ok: $what"
        else
            echo "  FAILED: $what" >&2
            printf '%s\n' "$log" | tail -n 5 >&2
            failed=1
        fi
    }
    options_exist() {  # options_exist CMD...: every --option of CMD appears in CMD --help
        local help
        help=$("$@" --help 2>&1) || return 1
        local token
        for token in "$@"; do
            case "$token" in
                --*) token="${token%%=*}"
                     if ! grep -q -- "$token" <<<"$help"; then echo "unknown option $token"; return 1; fi ;;
            esac
        done
    }
    for name in ENV TESTS DATA TRAIN BENCH REPORT; do
        declare -n cmd="CMD_$name"
        printf '[%s] ' "$(tr '[:upper:]' '[:lower:]' <<<"$name")"
        show "${cmd[@]}"
        unset -n cmd
    done
    echo "checking the arguments:"
    check "report helper" "$PY" scripts/lib/gpu_check_report.py --check
    check "cuda tests are collected" "$PY" -m pytest -q --collect-only -m cuda -p no:cacheprovider "${CUDA_TESTS[@]}"
    check "synthetic data options" options_exist "${CMD_DATA[@]}"
    check "training config and overrides resolve" "$PY" -m aot_plus.train "${TRAIN_ARGS[@]}" --print-config
    check "benchmark plan" "$PY" scripts/bench.py "${BENCH_ARGS[@]}" --dry-run
    if [ "$failed" = 1 ]; then
        echo "dry run: some commands have bad arguments (see above)" >&2
        exit 1
    fi
    echo "dry run: all arguments check out (nothing was run or written)"
    exit 0
fi

if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check.sh: no CUDA device visible to $PY (run it on a GPU machine, or use --dry-run)" >&2
    exit 2
fi
mkdir -p "$OUT"
touch "$MARKER"
STEPS="$OUT/steps.jsonl"
: >"$STEPS"
CHILD=""
interrupted() {
    [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null && wait "$CHILD" 2>/dev/null || true
    echo "gpu_check.sh: interrupted; writing the partial report" >&2
    "${CMD_REPORT[@]}" || true
    exit 130
}
trap interrupted INT TERM

run_step() {  # run_step NAME LIMIT_S CMD...: run under a time limit, log to OUT/NAME.log, record the outcome
    local name="$1" limit="$2"; shift 2
    local start end rc
    echo "[gpu_check $(date +%H:%M:%S)] $name (limit ${limit}s): $(show "$@")"
    start=$(date +%s.%N)
    timeout --signal=TERM --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1 &
    CHILD=$!
    rc=0
    wait "$CHILD" || rc=$?
    CHILD=""
    end=$(date +%s.%N)
    "$PY" scripts/lib/gpu_check_report.py step "$STEPS" "$name" "$rc" "$start" "$end" "$limit" "$OUT/$name.log" \
        -- "$@"
    [ "$rc" = 0 ] || { echo "  $name failed (exit $rc); last lines:"; tail -n 5 "$OUT/$name.log"; }
}

# Limits add up to 460 s, leaving room for start-up and the report within 8 minutes.
run_step env 20 "${CMD_ENV[@]}"
run_step tests 150 "${CMD_TESTS[@]}"
run_step data 20 "${CMD_DATA[@]}"
run_step train 90 "${CMD_TRAIN[@]}"
run_step bench 180 "${CMD_BENCH[@]}"
trap - INT TERM
"${CMD_REPORT[@]}"
cat "$OUT/summary.txt"
