"""Reproducible randomness for the training datasets.

Every sample draws from its own NumPy generator keyed by (seed, source stream, epoch, index): a sample is a pure
function of those four numbers, whatever the number of workers, ranks or restarts. Nothing in the data pipeline
touches NumPy's, Python's or torch's global generators.
"""
from __future__ import annotations

import signal

import cv2
import numpy as np
import torch

from aot_plus.distributed import seed_process


def sample_rng(seed: int, stream: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one training sample.

    Args:
        seed: the run's base seed.
        stream: a fixed number per training source, so equal indices of two sources differ.
        epoch: the epoch set by ``set_epoch`` (a new draw of every sample each epoch).
        index: the sample's index in its dataset.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, epoch, index])))


def worker_init_fn(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: no OpenCV threads in workers; global generators seeded from the worker's
    torch seed (which PyTorch already makes distinct per worker).

    The datasets never use the global generators; seeding them keeps third-party code in workers reproducible.
    """
    cv2.setNumThreads(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the workers too; the training process decides
    seed_process(torch.initial_seed() % 2**32, include_torch=False)
