"""Ranks from torchrun's environment and the one device resolver used by training, evaluation and tools."""
import pytest
import torch

from aot_plus.launch import env_int, launch_ranks, resolve_device


def test_launch_ranks_from_env(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert launch_ranks() == (0, 1, 0)
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert launch_ranks() == (3, 4, 1)
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE='two' is not an integer"):
        env_int("WORLD_SIZE", 1)


def test_resolve_device_names_and_errors():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="train.device='tpu'"):
        resolve_device("tpu", key="train.device")
    if not torch.cuda.is_available():
        assert resolve_device("auto") == torch.device("cpu")
        with pytest.raises(ValueError, match="eval.device='cuda' but CUDA is not available"):
            resolve_device("cuda", key="eval.device")
