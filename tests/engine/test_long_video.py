"""A 300-frame synthetic video with AOTT: bounded policies keep the bank and its tensors bounded, unbounded grows."""
import pytest
import torch

from aot_plus.engine import SessionConfig, VideoSession
from aot_plus.memory import EMFSConfig, FifoConfig, MemoryConfig, RMemConfig, UnboundedConfig
from aot_plus.models import ModelConfig, build_model

FRAMES, SIZE, LATTER = 300, 65, 4


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig()).eval()


def _video():
    """A bright square moving over a fixed noise background, and its first-frame label."""
    gen = torch.Generator().manual_seed(1)
    background = torch.randn(1, 3, SIZE, SIZE, generator=gen) * 0.3
    for t in range(FRAMES):
        frame = background.clone()
        y, x = 5 + (t % 40), 5 + (3 * t) % 40
        frame[:, :, y:y + 16, x:x + 16] += 2.0
        if t == 0:
            label = torch.zeros(SIZE, SIZE, dtype=torch.long)
            label[y:y + 16, x:x + 16] = 1
            yield frame, label
        else:
            yield frame, None


def _run(model, memory):
    session = VideoSession(model, memory, SessionConfig(mask_unused_ids=True))
    sizes, nbytes = [], []
    for t, (frame, label) in enumerate(_video()):
        if t == 0:
            session.add_reference(frame, label)
        else:
            session.update(session.step(frame).argmax(dim=1))
        sizes.append(len(session.kept_frames))
        nbytes.append(session.memory_bytes())
        assert session.kept_frames[0] == 0
    return session, sizes, nbytes


@pytest.mark.parametrize("policy", [FifoConfig(), RMemConfig.for_family("aot"), EMFSConfig.for_family("aot")],
                         ids=["fifo", "rmem", "emfs"])
def test_bounded_policies_stay_bounded(model, policy):
    session, sizes, nbytes = _run(model, MemoryConfig(max_recent_frames=LATTER, long_term_gap=1, policy=policy))
    capacity = 1 + LATTER
    assert max(sizes) == capacity and sizes[capacity - 1:] == [capacity] * (FRAMES - capacity + 1)
    assert max(nbytes) == nbytes[-1] == nbytes[capacity - 1]  # tensors stop growing once the bank is full
    assert session.kept_frames[-1] == FRAMES - 1  # the newest frame is never the one evicted
    if isinstance(policy, FifoConfig):
        assert session.kept_frames == (0,) + tuple(range(FRAMES - LATTER, FRAMES))


def test_unbounded_grows_with_the_video(model):
    session, sizes, nbytes = _run(model, MemoryConfig(max_recent_frames=None, long_term_gap=10,
                                                      policy=UnboundedConfig()))
    assert session.kept_frames == tuple(range(0, FRAMES, 10))
    assert sizes[-1] == 30 and nbytes[-1] == 30 * nbytes[0]
