"""The ablation eviction rules wired through a video session: which frames the long-term memory keeps."""
import pytest
import torch

from aot_plus.config import from_dict
from aot_plus.engine import VideoSession
from aot_plus.memory import MemoryConfig
from aot_plus.models import ModelConfig, build_model

SIZE = 65


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig()).eval()


@pytest.mark.parametrize("name,kept", [("drop_oldest_any", (4, 5, 6)), ("drop_newest", (0, 1, 6))])
def test_session_keeps_the_frames_the_rule_says(model, name, kept):
    memory = from_dict(MemoryConfig, {"max_recent_frames": 2, "long_term_gap": 1, "policy": {"name": name}})
    session = VideoSession(model, memory)
    generator = torch.Generator().manual_seed(0)
    frames = [torch.randn(1, 3, SIZE, SIZE, generator=generator) for _ in range(7)]
    label = torch.zeros(SIZE, SIZE, dtype=torch.long)
    label[10:30, 20:40] = 1
    session.add_reference(frames[0], label)
    for frame in frames[1:]:
        probs = session.step(frame)
        session.update(probs.argmax(dim=1))
    assert session.kept_frames == kept


def test_random_rule_is_reproducible_per_video(model):
    memory = from_dict(MemoryConfig, {"max_recent_frames": 2, "long_term_gap": 1,
                                      "policy": {"name": "random", "seed": 5}})
    generator = torch.Generator().manual_seed(0)
    frames = [torch.randn(1, 3, SIZE, SIZE, generator=generator) for _ in range(8)]
    label = torch.zeros(SIZE, SIZE, dtype=torch.long)
    label[10:30, 20:40] = 1
    runs = []
    session = VideoSession(model, memory)
    for _ in range(2):  # the same video twice through one session: the draws restart from the seed
        session.reset()
        session.add_reference(frames[0], label)
        timeline = []
        for frame in frames[1:]:
            session.update(session.step(frame).argmax(dim=1))
            timeline.append(session.kept_frames)
        runs.append(timeline)
    assert runs[0] == runs[1] and runs[0][-1][0] == 0 and len(runs[0][-1]) == 3
