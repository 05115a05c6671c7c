# Shared by train_vost.sh and eval_vost.sh (sourced, not run): checks MODEL, MEMORY and GPUS and sets
#   family       aot | deaot (the reference code path of the model)
#   memory_file  the configs/memory/<name>.yaml of MEMORY on that code path (RMem/EMFS differ between AOT and DeAOT)
case "$MODEL" in
    r50_aotl) family=aot ;;
    r50_deaotl) family=deaot ;;
    *) echo "error: MODEL must be r50_aotl or r50_deaotl, got '$MODEL'" >&2; exit 2 ;;
esac
case "$MEMORY" in
    fifo|unbounded) memory_file="$MEMORY" ;;
    rmem|emfs)
        memory_file="$MEMORY"
        if [ "$family" = deaot ]; then memory_file="${MEMORY}_deaot"; fi ;;
    *) echo "error: MEMORY must be fifo, rmem, emfs or unbounded, got '$MEMORY'" >&2; exit 2 ;;
esac
case "$GPUS" in
    ''|*[!0-9]*) echo "error: GPUS must be a number (0 = CPU), got '$GPUS'" >&2; exit 2 ;;
esac
