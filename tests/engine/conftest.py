"""Shared settings for the engine tests."""
import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    """One torch thread: on a shared 2-core machine oversubscribed BLAS threads are many times slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
