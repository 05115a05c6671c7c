"""VideoSession: outputs, gap rule, evidence only when needed, soft updates, identity groups, later references."""
import dataclasses

import pytest
import torch

from aot_plus.engine import SessionConfig, VideoSession
from aot_plus.memory import EMFSConfig, FifoConfig, MemoryConfig, RMemConfig, UnboundedConfig
from aot_plus.models import ModelConfig, build_model

SIZE = 65


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig()).eval()


def _frames(count, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(1, 3, SIZE, SIZE, generator=gen) for _ in range(count)]


def _label(num_objects=2):
    label = torch.zeros(SIZE, SIZE, dtype=torch.long)
    for obj in range(1, num_objects + 1):
        row, col = divmod(obj - 1, 4)
        label[4 + 15 * row:14 + 15 * row, 4 + 15 * col:14 + 15 * col] = obj
    return label


def _memory(policy=None, latter=2, gap=1):
    return MemoryConfig(max_recent_frames=latter, long_term_gap=gap, policy=policy or FifoConfig())


def _run(session, frames, labels=None):
    session.add_reference(frames[0], _label() if labels is None else labels)
    outputs = []
    for frame in frames[1:]:
        probs = session.step(frame)
        session.update(probs.argmax(dim=1))
        outputs.append(probs)
    return outputs


def test_step_returns_probabilities_and_masks_unused_ids(model):
    frames = _frames(3)
    session = VideoSession(model, _memory())
    probs = _run(session, frames)[-1]
    assert probs.shape == (1, 11, SIZE, SIZE) and session.num_channels == 11
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(1, SIZE, SIZE))
    assert float(probs[:, 3:].max()) > 0  # reference-compatible: unused identities keep probability
    masked = VideoSession(model, _memory(), SessionConfig(mask_unused_ids=True))
    masked.add_reference(frames[0], _label())
    probs = masked.step(frames[1], output_size=(30, 40))
    assert probs.shape == (1, 11, 30, 40) and float(probs[:, 3:].max()) == 0.0


def test_gap_rule(model):
    session = VideoSession(model, _memory(UnboundedConfig(), latter=None, gap=3))
    _run(session, _frames(11))
    assert session.kept_frames == (0, 3, 6, 9)
    per_sequence = MemoryConfig(max_recent_frames=None, policy=UnboundedConfig())
    assert VideoSession(model, per_sequence, num_frames=75).gap == 5
    assert VideoSession(model, per_sequence, num_frames=600).gap == 20


@pytest.mark.parametrize("policy,expected", [
    (FifoConfig(), [False] * 6),
    (RMemConfig.for_family("aot"), [False, False, True, True, True, True]),
    (RMemConfig.for_family("deaot"), [True] * 6),
    (EMFSConfig.for_family("aot"), [False, False, True, True, True, True]),
])
def test_attention_is_recorded_only_when_the_policy_reads_it(model, monkeypatch, policy, expected):
    recorded = []
    propagate = model.propagate

    def spy(*args, **kwargs):
        recorded.append(kwargs.get("need_mass", False))
        return propagate(*args, **kwargs)

    monkeypatch.setattr(model, "propagate", spy)
    session = VideoSession(model, _memory(policy))
    _run(session, _frames(7))
    assert recorded == [False] + expected  # the reference frame never records
    assert session.kept_frames == (0, 5, 6) if isinstance(policy, FifoConfig) else len(session.kept_frames) == 3
    if not isinstance(policy, FifoConfig):
        assert session.policies[0].last_scores is not None


def test_soft_update_with_one_hot_probabilities_equals_hard_update(model):
    frames = _frames(4)
    hard, soft = VideoSession(model, _memory()), VideoSession(model, _memory())
    for session in (hard, soft):
        session.add_reference(frames[0], _label())
    for frame in frames[1:]:
        probs = hard.step(frame)
        soft.step(frame)
        label = probs.argmax(dim=1)
        hard.update(label)
        soft.update(torch.nn.functional.one_hot(label, 11).permute(0, 3, 1, 2).float())
    torch.testing.assert_close(hard.step(frames[0]), soft.step(frames[0]))


def test_more_than_ten_objects_use_identity_groups(model):
    frames = _frames(3)
    session = VideoSession(model, _memory(), SessionConfig(mask_unused_ids=True))
    outputs = _run(session, frames, _label(12))
    assert session.num_objects == 12 and session.num_channels == 21
    assert len(session.kept_frames_per_group) == 2 and session.kept_frames_per_group[0] == (0, 1, 2)
    probs = outputs[-1]
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(1, SIZE, SIZE))
    assert float(probs[:, 13:].max()) < 1e-4  # group 2 tracks objects 11 and 12 only


def test_later_references_append_or_reset(model):
    frames = _frames(6)
    for mode, expected in (("append", (0, 1, 2, 3, 4)), ("reset", (4,))):
        session = VideoSession(model, _memory(UnboundedConfig(), latter=None), SessionConfig(new_reference=mode))
        _run(session, frames[:4])
        session.step(frames[4])
        session.add_reference(frames[4], _label(3), frame_idx=4)
        assert session.kept_frames == expected and session.num_objects == 3
        session.step(frames[5])
        session.update(_label(3))
        assert session.kept_frames == expected + (5,)


def test_label_maps_are_resized_and_checked(model):
    session = VideoSession(model, _memory())
    small = torch.zeros(33, 33, dtype=torch.long)
    small[5:20, 5:20] = 1
    session.add_reference(_frames(1)[0], small[None, None])
    assert session.num_objects == 1
    with pytest.raises(ValueError, match="label map"):
        session.add_reference(_frames(1)[0], torch.zeros(2, 3, SIZE, SIZE))


def test_call_order_errors(model):
    session = VideoSession(model, _memory())
    with pytest.raises(RuntimeError, match="reference"):
        session.step(_frames(1)[0])
    session.add_reference(_frames(1)[0], _label())
    with pytest.raises(RuntimeError, match="step"):
        session.update(_label())
    session.reset()
    assert session.kept_frames == () and session.frame_idx == -1


def test_reference_compatible_mode_is_a_typed_flag():
    assert SessionConfig().mask_unused_ids is False
    with pytest.raises(ValueError):
        SessionConfig(new_reference="merge")
    assert dataclasses.replace(SessionConfig(), short_term_skip=2).short_term_skip == 2


def test_frames_must_keep_the_reference_size(model):
    session = VideoSession(model, _memory())
    session.add_reference(_frames(1)[0], _label())
    with pytest.raises(ValueError, match="input size"):
        session.step(torch.randn(1, 3, 49, 65))
