# Shared by eval_vost.sh and scripts/eval_benchmark.sh (sourced, not run), after scripts/lib/vost_settings.sh.
#   eval_setup NAME   checks CKPT and sets OUTPUT (default ./results/NAME_<MODEL>_<MEMORY>_<checkpoint name>),
#                     bank (the RMem / EMFS memory bank: 1 reference + 8 recent frames) and device (cuda | cpu)
#   eval_exec ARGS... runs python -m aot_plus.eval ARGS (torchrun when GPUS > 1), or prints it when DRY_RUN is set;
#                     a caller that sets eval_module (e.g. aot_plus.sweep) runs that module instead
eval_setup() {
    if [ ! -f "$CKPT" ]; then
        echo "error: checkpoint file $CKPT does not exist (CKPT)" >&2
        exit 2
    fi
    local ckpt_name
    ckpt_name="$(basename "$CKPT")"
    OUTPUT="${OUTPUT:-./results/${1}_${MODEL}_${MEMORY}_${ckpt_name%.*}}"
    bank=(memory.reference_frames=1)
    if [ "$MEMORY" != unbounded ]; then bank+=(memory.max_recent_frames=8); fi
    device=cuda
    if [ "$GPUS" -eq 0 ]; then device=cpu; fi
}

eval_exec() {
    local cmd
    local module="${eval_module:-aot_plus.eval}"
    if [ "$GPUS" -gt 1 ]; then
        cmd=("$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$GPUS" -m "$module" "$@")
    else
        cmd=("$PYTHON" -m "$module" "$@")
    fi
    if [ -n "${DRY_RUN:-}" ]; then
        printf '%q ' "${cmd[@]}"
        printf '\n'
        exit 0
    fi
    exec "${cmd[@]}"
}
