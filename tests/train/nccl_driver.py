"""Join an NCCL process group under torchrun, all-reduce, and run one DDP forward/backward of AOT-T's encoder.

Usage: ``torchrun --nproc_per_node N nccl_driver.py OUT`` (used by test_cuda_training.py; needs CUDA). Writes
``OUT/rank<r>.json`` with the backend, the all-reduced value and whether every gradient is finite.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from aot_plus.config import load_config
from aot_plus.models import build_model

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    """One NCCL all-reduce and one DDP step under bf16 autocast; dump this rank's result."""
    out = Path(sys.argv[1])
    rank, local_rank, world = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"]), int(os.environ["WORLD_SIZE"])
    device = torch.device("cuda", local_rank)
    torch.cuda.set_device(device)
    dist.init_process_group("nccl", rank=rank, world_size=world, device_id=device)
    value = torch.tensor([float(rank + 1)], device=device)
    dist.all_reduce(value)
    model = build_model(load_config(ROOT / "configs" / "models" / "rmem_aott.yaml").model).to(device)
    ddp = DistributedDataParallel(model.encoder, device_ids=[local_rank])
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = sum(f.float().mean() for f in ddp(torch.randn(2, 3, 65, 65, device=device)))
    loss.backward()
    finite = all(torch.isfinite(p.grad).all().item() for p in model.encoder.parameters() if p.grad is not None)
    payload = {"backend": dist.get_backend(), "all_reduce": value.item(), "grads_finite": finite,
               "world_size": world}
    (out / f"rank{rank}.json").write_text(json.dumps(payload))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
