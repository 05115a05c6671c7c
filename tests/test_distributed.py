"""The shared process set-up: single-process collectives and the one seeding routine."""
from __future__ import annotations

import random

import numpy as np
import torch

from aot_plus import distributed


def test_single_process_collectives_are_identities():
    ctx = distributed.setup("cpu", timeout_s=10)
    assert (ctx.rank, ctx.world_size, ctx.is_main, ctx.distributed) == (0, 1, True, False)
    tensor = torch.arange(3.0)
    assert distributed.all_reduce_mean(tensor) is tensor
    assert distributed.all_gather_objects({"a": 1}) == [{"a": 1}]
    distributed.barrier()
    distributed.cleanup()


def test_seed_process_seeds_every_global_generator():
    distributed.seed_process(2**32 + 5)
    first = (random.random(), np.random.rand(), torch.rand(()).item())
    distributed.seed_process(2**32 + 5)
    assert (random.random(), np.random.rand(), torch.rand(()).item()) == first
    np.random.seed(5)
    expected = np.random.rand()
    torch.manual_seed(1)
    torch_state = torch.random.get_rng_state()
    distributed.seed_process(2**32 + 5, include_torch=False)  # NumPy takes the seed modulo 2**32
    assert np.random.rand() == expected and torch.equal(torch.random.get_rng_state(), torch_state)
