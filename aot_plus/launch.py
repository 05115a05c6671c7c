"""Where this process runs: its torchrun ranks and its device, chosen once for training, evaluation and tools."""
from __future__ import annotations

import os

import torch


def env_int(name: str, default: int) -> int:
    """An integer environment variable (``default`` when unset or empty); a non-integer is a ValueError."""
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from None


def launch_ranks() -> tuple[int, int, int]:
    """``(RANK, WORLD_SIZE, LOCAL_RANK)`` as torchrun sets them; ``(0, 1, 0)`` when started directly."""
    return env_int("RANK", 0), env_int("WORLD_SIZE", 1), env_int("LOCAL_RANK", 0)


def resolve_device(name: str, local_rank: int = 0, key: str = "device") -> torch.device:
    """Turn ``auto``/``cpu``/``cuda``/``cuda:N`` into a device; plain ``cuda`` means ``cuda:LOCAL_RANK``.

    Args:
        name: the configured device name.
        local_rank: this process's rank on its node (selects the GPU).
        key: the config key or option the name came from, for error messages.

    Raises:
        ValueError: CUDA requested but not available, or an unknown device name.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"{key}={name!r} is not a device name (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{key}={name!r} but CUDA is not available; use {key}=cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise ValueError(f"{key}={name!r}: only cpu and cuda are supported")
    return device
