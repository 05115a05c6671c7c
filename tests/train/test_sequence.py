"""The training forward's memory schedule, teacher forcing and identity shuffle, with a recording stub network."""
from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from aot_plus.memory.config import MemoryConfig
from aot_plus.memory.policies.unbounded import UnboundedConfig
from aot_plus.models.config import ModelConfig
from aot_plus.train.config import TrainConfig
from aot_plus.train.sequence import SequenceTrainer

GRID = 2  # stride-16 grid side of the stub's 32 x 32 inputs


class StubModel(nn.Module):
    """Frame t's image is the constant t; its memories carry t, so the memory a propagation sees names its frames."""

    align_corners = True

    def __init__(self) -> None:
        super().__init__()
        self.id_weight = nn.Parameter(torch.ones(()))
        self.logit_bias = nn.Parameter(torch.zeros(11))
        self.calls: list[tuple] = []

    def encode(self, images):
        frame = images.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)
        return [frame.expand(-1, 1, 8, 8), frame.expand(-1, 1, 4, 4), frame.expand(-1, 1, GRID, GRID),
                frame.expand(-1, 1, GRID, GRID)]

    def identity_map(self, onehot, ignore=None):
        self.calls.append(("identity", ignore is not None, onehot))
        return onehot

    def embed_identity(self, id_map):
        pooled = nn.functional.adaptive_avg_pool2d(id_map, GRID).flatten(2).permute(2, 0, 1)
        return pooled * self.id_weight

    def propagate(self, feats, long_memories=None, short_memories=None, id_emb=None, need_mass=False):
        frame = feats[-1].flatten(2).permute(2, 0, 1)  # [L, B, 1]
        if id_emb is None:
            kept = long_memories[0][0][:, 0, 0, 0].tolist()
            self.calls.append(("propagate", int(frame[0, 0, 0]), kept, int(short_memories[0][0][0, 0, 0])))
        return SimpleNamespace(frame=frame)

    def decode(self, feats, stack):
        b = feats[-1].shape[0]
        return self.logit_bias.view(1, 11, 1, 1).expand(b, 11, 8, 8) + stack.frame.mean() * 0

    def memorize(self, stack, id_emb):
        self.calls.append(("memorize", int(stack.frame[0, 0, 0]), id_emb.requires_grad))
        entry = (stack.frame + 0 * id_emb.sum(), stack.frame)
        return [entry], [entry]


def _clip(frames: int, batch: int = 2):
    images = torch.arange(frames, dtype=torch.float32).view(frames, 1, 1, 1, 1).expand(frames, batch, 3, 32, 32)
    labels = torch.zeros(frames, batch, 32, 32, dtype=torch.long)
    labels[:, :, :16] = 1
    labels[:, :, -4:] = 255
    return images.contiguous(), labels, torch.tensor([1, 2][:batch])


def _run(train_cfg: TrainConfig, memory: MemoryConfig, frames: int, step: int = 0):
    model = StubModel()
    trainer = SequenceTrainer(model, ModelConfig(), memory, train_cfg)
    out = trainer(*_clip(frames), step=step)
    out.loss.backward()
    return model.calls, out


def test_gap_and_fifo_schedule():
    calls, out = _run(TrainConfig(long_term_gap=1, id_shuffle=False),
                      MemoryConfig(reference_frames=1, max_recent_frames=2), frames=6)
    seen = [(c[1], c[2], c[3]) for c in calls if c[0] == "propagate"]
    # frame t sees the long-term bank (reference + the 2 newest, FIFO) and frame t - 1 as short-term memory
    assert seen == [(1, [0], 0), (2, [0, 1], 1), (3, [0, 1, 2], 2), (4, [0, 2, 3], 3), (5, [0, 3, 4], 4)]
    assert [c[1] for c in calls if c[0] == "memorize"] == [0, 1, 2, 3, 4]  # the last frame is never memorised
    assert out.frame_losses.shape == (6,) and out.loss.requires_grad


def test_gap_four_never_evicts_in_a_17_frame_clip():
    calls, _ = _run(TrainConfig(long_term_gap=4, id_shuffle=False), MemoryConfig(), frames=17)
    seen = {c[1]: c[2] for c in calls if c[0] == "propagate"}
    assert seen[4] == [0] and seen[5] == [0, 4] and seen[16] == [0, 4, 8, 12]
    unbounded = MemoryConfig(max_recent_frames=1, policy=UnboundedConfig())
    calls, _ = _run(TrainConfig(long_term_gap=1, id_shuffle=False), unbounded, frames=5)
    assert [c[2] for c in calls if c[0] == "propagate"][-1] == [0, 1, 2, 3]


def test_teacher_forcing_then_own_predictions():
    cfg = TrainConfig(long_term_gap=2, id_shuffle=False, total_steps=100, seq_training_start_ratio=0.5)
    calls, _ = _run(cfg, MemoryConfig(), frames=4, step=49)
    identity = [c[1] for c in calls if c[0] == "identity"]
    assert identity == [False, True, True]  # reference without its ignore map; memory frames with it
    assert [c[2] for c in calls if c[0] == "memorize"] == [True, True, True]
    calls, _ = _run(cfg, MemoryConfig(), frames=4, step=50)
    assert [c[1] for c in calls if c[0] == "identity"] == [False, False, False]
    assert [c[2] for c in calls if c[0] == "memorize"] == [False, False, False]  # every identity detached


def test_identity_shuffle_round_trip():
    torch.manual_seed(3)
    model = StubModel()
    trainer = SequenceTrainer(model, ModelConfig(), MemoryConfig(), TrainConfig())
    perm = trainer._permutation(2, torch.device("cpu"))
    assert perm[:, 0].tolist() == [0, 0] and sorted(perm[1].tolist()) == list(range(11))
    _, labels, obj_nums = _clip(1)
    trainer._identity(labels[0], perm, with_ignore=True, detach=False)
    onehot = model.calls[-1][2]
    for b in range(2):
        for k in (0, 1):
            assert torch.equal(onehot[b, perm[b, k]], (labels[0, b] == k).float())
        assert onehot[b, :, -1].sum() == 0  # void rows set no identity channel
    with torch.no_grad():
        model.logit_bias.copy_(torch.arange(11.0))
    logits = trainer._logits([torch.zeros(2, 1, GRID, GRID)], SimpleNamespace(frame=torch.zeros(1)), perm,
                             obj_nums, (8, 8))
    for b, k_max in enumerate(obj_nums.tolist()):
        assert logits[b, :k_max + 1, 0, 0].tolist() == perm[b, :k_max + 1].float().tolist()
        assert (logits[b, k_max + 1:] == -1e10).all()


def test_explicit_permutation_terms_and_logits():
    model = StubModel()
    with torch.no_grad():
        model.logit_bias.copy_(torch.arange(11.0))
    trainer = SequenceTrainer(model, ModelConfig(), MemoryConfig(), TrainConfig(long_term_gap=1))
    perm = torch.tensor([[0, 3, 1, 2, 4, 5, 6, 7, 8, 9, 10], [0, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]])
    state = torch.random.get_rng_state()
    out = trainer(*_clip(3), step=0, id_permutation=perm, keep_logits=True)
    assert torch.equal(torch.random.get_rng_state(), state)  # no random shuffle was drawn
    assert out.logits.shape == (3, 2, 11, 32, 32) and not out.logits.requires_grad
    # decode returns channel c = c; un-shuffling puts the value of slot perm[b, k] in channel k
    assert out.logits[0, 0, :2, 0, 0].tolist() == [0.0, 3.0] and out.logits[0, 1, :3, 0, 0].tolist() == [0.0, 10.0, 9.0]
    assert (out.logits[:, 0, 2:] < -9e9).all()  # unused identities masked (then resized)
    assert out.cross_entropy.shape == out.jaccard.shape == (3, 2)
    cfg = trainer.cfg
    combined = (cfg.ce_weight * out.cross_entropy + cfg.jaccard_weight * out.jaccard).mean(dim=1)
    assert torch.allclose(combined, out.frame_losses)
    assert trainer(*_clip(3), step=0).logits is None
