# Shared by train_vost.sh and eval_vost.sh (sourced, not run): checks MODEL, MEMORY and GPUS.
# The memory file is configs/memory/$MEMORY.yaml for both model families: its family-dependent constants are
# `auto` and resolved from the model config (docs/memory-policies.md).
case "$MODEL" in
    r50_aotl|r50_deaotl) ;;
    *) echo "error: MODEL must be r50_aotl or r50_deaotl, got '$MODEL'" >&2; exit 2 ;;
esac
case "$MEMORY" in
    fifo|unbounded|rmem|emfs) ;;
    *) echo "error: MEMORY must be fifo, rmem, emfs or unbounded, got '$MEMORY'" >&2; exit 2 ;;
esac
case "$GPUS" in
    ''|*[!0-9]*) echo "error: GPUS must be a number (0 = CPU), got '$GPUS'" >&2; exit 2 ;;
esac
