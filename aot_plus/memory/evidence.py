"""What an eviction policy may read about the frame just propagated, and the helpers that compute it.

Shapes (``docs/memory-policies.md``): ``L = h * w`` tokens of the encoder (stride-16) grid in row-major order,
``T`` memory frames in bank order (the frames the current frame was propagated against, *before* its insertion),
``B`` the batch (1 at evaluation), ``C`` channels.

Everything here stays on the tensors' device; no host-device synchronisation happens in this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

#: Names a policy may list in its ``needs``.
EVIDENCE_KINDS = frozenset({"attention", "foreground", "keys"})


@dataclass(frozen=True)
class Evidence:
    """Evidence about the propagation of the current frame over the ``T`` old memory frames.

    Only what the policy's ``needs`` lists has to be filled in; the rest stays None.

    Attributes:
        attention_mass: ``(L, T)`` layer-0 long-term attention probabilities, mean over heads, summed over the
            tokens of each memory frame (row ``p``: how query token ``p`` splits its attention over the frames;
            rows sum to 1). See :func:`frame_attention_mass`. Needed for ``"attention"``.
        foreground: ``(L,)`` foreground probability ``1 - p(background)`` of the current frame at the encoder grid.
            See :func:`foreground_probability`. Needed for ``"foreground"``.
        keys: ``(T, L, B, C)`` layer-0 long-term memory keys as used by that attention (temporal positional
            embedding added when the model has one). Needed for ``"keys"``.
        key_similarity: ``(T, T)`` optional precomputed :func:`key_similarity` of ``keys`` (diagonal zeroed);
            when given, a policy that needs ``"keys"`` uses it instead of ``keys`` (an engine may compute it
            itself; recorded matrices can be replayed).
    """

    attention_mass: Optional[Tensor] = None
    foreground: Optional[Tensor] = None
    keys: Optional[Tensor] = None
    key_similarity: Optional[Tensor] = None

    def provides(self, kind: str) -> bool:
        """Whether this evidence holds what the ``needs`` entry ``kind`` asks for."""
        if kind == "attention":
            return self.attention_mass is not None
        if kind == "foreground":
            return self.foreground is not None
        if kind == "keys":
            return self.keys is not None or self.key_similarity is not None
        raise ValueError(f"unknown evidence kind {kind!r}; expected one of {sorted(EVIDENCE_KINDS)}")


def frame_attention_mass(probs: Tensor, num_frames: int) -> Tensor:
    """Reduce long-term attention probabilities to the attention mass per memory frame.

    Args:
        probs: ``(1, n_heads, L, T * L)`` softmax probabilities of the long-term attention (memory tokens in bank
            order, frame-major).
        num_frames: ``T``.

    Returns:
        ``(L, T)``: mean over heads, then the sum over each frame's ``L`` tokens (the reference's order of
        operations).
    """
    batch, heads, tokens, memory = probs.shape
    if batch != 1:
        raise ValueError(f"attention mass needs batch size 1 (one video), got probabilities of shape "
                         f"{tuple(probs.shape)}")
    if memory != num_frames * tokens:
        raise ValueError(f"attention over {memory} memory tokens does not split into {num_frames} frames of "
                         f"{tokens} tokens")
    per_frame = probs.view(batch, heads, tokens, num_frames, tokens).mean(dim=1)[0]
    return per_frame.sum(dim=2)


def foreground_probability(logits: Tensor, grid_size: tuple[int, int]) -> Tensor:
    """Foreground probability of the current frame at the encoder grid.

    The decoder logits (stride 4, after any identity masking) are resized bilinearly with ``align_corners=True``
    to the grid, whatever the model's own setting (``docs/memory-policies.md``), softmaxed over the identity
    channels, and ``1 - p(background)`` is taken.

    Args:
        logits: ``(1, n_ids + 1, h4, w4)`` decoder logits; channel 0 is the background.
        grid_size: ``(h, w)`` of the encoder grid.

    Returns:
        ``(h * w,)`` in row-major order, in the logits' dtype.
    """
    if logits.dim() != 4 or logits.shape[0] != 1:
        raise ValueError(f"foreground probability needs logits of shape (1, C, H, W), got {tuple(logits.shape)}")
    resized = F.interpolate(logits, size=tuple(grid_size), mode="bilinear", align_corners=True)
    background = torch.softmax(resized, dim=1)[0, 0]
    return (1 - background).flatten()


def relevance(attention_mass: Tensor, foreground: Tensor) -> Tensor:
    """Foreground-weighted attention share of each memory frame, normalised to sum 1 (float32).

    ``r_i = sum_p fg(p) * A[p, i]`` and ``a_i = r_i / sum_j r_j``. If the foreground is exactly 0 everywhere the
    result is NaN, as in the reference (``docs/memory-policies.md``).

    Args:
        attention_mass: ``(L, T)``, see :func:`frame_attention_mass`.
        foreground: ``(L,)``, see :func:`foreground_probability`.

    Returns:
        ``(T,)`` float32 on the inputs' device.
    """
    if attention_mass.dim() != 2 or foreground.shape != attention_mass.shape[:1]:
        raise ValueError(f"relevance needs attention mass (L, T) and foreground (L,), got "
                         f"{tuple(attention_mass.shape)} and {tuple(foreground.shape)}")
    weighted = (attention_mass.float() * foreground.float()[:, None]).sum(dim=0)
    return weighted / weighted.sum()


def key_similarity(keys: Tensor) -> Tensor:
    """EMFS redundancy similarity of memory frames from their keys, diagonal zeroed.

    Each ``(frame, batch, channel)`` profile over the ``L`` tokens is L2-normalised (norm clamped at 1e-12), each
    frame is flattened, and ``S = G G^T``: ``S[i, j]`` sums, over batch items and channels, the cosine similarity of
    the channel's token profiles in frames ``i`` and ``j`` (so an undiagonalised ``S[i, i]`` would be ``B * C``).

    Args:
        keys: ``(T, L, B, C)`` layer-0 memory keys as used in the attention.

    Returns:
        ``(T, T)`` float32 (computed in float32 even under autocast), with zeros on the diagonal.
    """
    if keys.dim() != 4:
        raise ValueError(f"key similarity needs keys of shape (T, L, B, C), got {tuple(keys.shape)}")
    with torch.autocast(device_type=keys.device.type, enabled=False):
        flat = F.normalize(keys.float(), p=2.0, dim=1).reshape(keys.shape[0], -1)
        similarity = flat @ flat.t()
    return similarity.fill_diagonal_(0)
