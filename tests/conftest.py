"""Suite-wide settings."""
import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    """One torch thread per test: on a shared 2-core CI machine oversubscribed BLAS threads run many times slower.

    Restored afterwards, so a test may change it (the trainer sets its own count and restores it too).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked ``cuda`` when no CUDA device is visible."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
