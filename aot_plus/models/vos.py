"""The parts every AOT-family network shares: encoder, projector, identity bank, temporal PE and the frame API.

A network is used frame by frame by a session (``aot_plus.engine``), which owns the memories:

* :meth:`VOSModel.encode` -- image to features ``[x4, x8, x16, E]`` (E = projected stride-16 map);
* :meth:`VOSModel.identity_map` / :meth:`VOSModel.embed_identity` -- mask (hard one-hot or soft probabilities) to
  the identity embedding ``ID`` ``[L, B, C]``;
* :meth:`VOSModel.propagate` -- one frame through the transformer, against given memories (or, for a reference
  frame, against itself with ``ID``);
* :meth:`VOSModel.decode` -- stride-4 identity logits;
* :meth:`VOSModel.memorize` -- the frame's long- and short-term memory entries once its ``ID`` is known.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from aot_plus.models.layers.basic import map_to_seq, seq_to_map
from aot_plus.memory.bank import LayerMemory
from aot_plus.models.layers.lstt import StackOutput
from aot_plus.models.layers.position import TemporalPE, sinusoidal_temporal_pe, temporal_pe_rows


class VOSModel(nn.Module):
    """Base of :class:`~aot_plus.models.aot.AOT` and :class:`~aot_plus.models.deaot.DeAOT`.

    Subclasses build, in this order (it fixes the state_dict order of the released checkpoints): ``encoder``,
    ``encoder_projector``, ``LSTT``, ``decoder``, ``patch_wise_id_bank`` (via :meth:`_build_identity_bank`) and
    their own extras, and call :meth:`_build_temporal_pe`.

    Attributes:
        family: ``aot`` or ``deaot``: the reference code path the memory policies' ``auto`` constants follow.
        max_obj_num: identities per group; logits have ``max_obj_num + 1`` channels.
        ignore_token: the identity bank has an extra "ignore" input channel.
        align_corners: the model's bilinear resize setting.
    """

    family: str
    max_obj_num: int
    ignore_token: bool
    align_corners: bool
    tpe_max_interp_frames: int

    def _init_encoder(self, encoder: nn.Module, encoder_dims: Sequence[int], embed_dim: int, max_obj_num: int,
                      ignore_token: bool, align_corners: bool) -> None:
        """Store the shared settings and register the encoder and its 1x1 projector (``docs/model.md``)."""
        self.max_obj_num = max_obj_num
        self.ignore_token = ignore_token
        self.align_corners = align_corners
        self.encoder = encoder
        self.encoder_projector = nn.Conv2d(encoder_dims[-1], embed_dim, kernel_size=1)
        nn.init.xavier_uniform_(self.encoder_projector.weight)

    def _build_identity_bank(self, embed_dim: int) -> None:
        """Register the identity bank: background + identities (+ ignore) channels in, ``embed_dim`` out."""
        id_dim = self.max_obj_num + (2 if self.ignore_token else 1)
        kernel, padding = (17, 8) if self.align_corners else (16, 0)
        self.patch_wise_id_bank = nn.Conv2d(id_dim, embed_dim, kernel_size=kernel, stride=16, padding=padding)
        with torch.no_grad():
            nn.init.orthogonal_(self.patch_wise_id_bank.weight.view(embed_dim, -1), gain=float(kernel) ** -2)

    def _build_temporal_pe(self, enabled: bool, slots: int, dim: int, max_interp_frames: int,
                           kind: str = "learned") -> None:
        if kind not in ("learned", "sinusoidal"):
            raise ValueError(f"unknown temporal PE kind {kind!r}; expected 'learned' or 'sinusoidal'")
        self.tpe_max_interp_frames = max_interp_frames
        self.tpe_sinusoidal_dim = dim if enabled and kind == "sinusoidal" else None
        if not enabled or kind == "sinusoidal":
            self.cur_pos_emb = None
            self.mem_pos_emb = None
            return
        self.cur_pos_emb = nn.Parameter(torch.empty(1, dim))
        self.mem_pos_emb = nn.Parameter(torch.empty(slots, dim))
        for param in (self.cur_pos_emb, self.mem_pos_emb):
            nn.init.trunc_normal_(param, std=0.05, a=-2.0, b=2.0)

    def encode(self, image: Tensor) -> list[Tensor]:
        """Encode a normalised image ``[B, 3, H, W]`` to ``[x4, x8, x16, E]`` (E: ``[B, C, h, w]``)."""
        feats = list(self.encoder(image))
        feats[-1] = self.encoder_projector(feats[-1])
        return feats

    def identity_map(self, onehot: Tensor, ignore: Optional[Tensor] = None) -> Tensor:
        """Identity-bank input from a mask.

        Args:
            onehot: ``[B, max_obj_num + 1, H, W]``: one-hot of a label (channel 0 = background) or probabilities.
            ignore: ``[B, 1, H, W]`` ignore map (label == 255). None (reference frames, the reference's quirk): an
                all-zero ignore channel and the background left as is.

        Returns:
            ``[B, id_dim, H, W]``; with the ignore token the background is zeroed where ignored and the ignore
            map is appended.
        """
        if not self.ignore_token:
            return onehot
        if ignore is None:
            ignore = onehot.new_zeros(onehot.shape[0], 1, *onehot.shape[2:])
        else:
            onehot = torch.cat([onehot[:, :1] * (ignore == 0).to(onehot.dtype), onehot[:, 1:]], dim=1)
        return torch.cat([onehot, ignore.to(onehot.dtype)], dim=1)

    def embed_identity(self, id_map: Tensor) -> Tensor:
        """Identity embedding ``[L, B, C]`` of an identity-bank input ``[B, id_dim, H, W]``."""
        return map_to_seq(self.patch_wise_id_bank(id_map))

    def temporal_pe(self, num_frames: int, slots: Optional[int] = None) -> Optional[TemporalPE]:
        """The temporal PE for a long-term memory of ``num_frames`` frames, or None without TPE.

        Args:
            num_frames: frames in the memory (bank positions ``0 .. num_frames - 1``).
            slots: rows of the result when the memory has more slots than frames (a static-capacity memory,
                ``docs/static-memory.md``): rows past ``num_frames`` are zero (those slots get no attention).
        """
        if self.tpe_sinusoidal_dim is not None:
            weight = self.encoder_projector.weight
            tpe = sinusoidal_temporal_pe(num_frames, self.tpe_sinusoidal_dim, weight.device, weight.dtype)
        elif self.mem_pos_emb is None:
            return None
        else:
            tpe = TemporalPE(self.cur_pos_emb,
                             temporal_pe_rows(self.mem_pos_emb, num_frames, self.tpe_max_interp_frames))
        if slots is not None and slots > num_frames:
            padding = tpe.memory.new_zeros(slots - num_frames, tpe.memory.shape[1])
            tpe = TemporalPE(tpe.current, torch.cat([tpe.memory, padding], dim=0))
        return tpe

    def propagate(self, feats: Sequence[Tensor], long_memories: Optional[Sequence[LayerMemory]] = None,
                  short_memories: Optional[Sequence[LayerMemory]] = None, id_emb: Optional[Tensor] = None,
                  need_mass: bool = False, need_keys: bool = False, memory_valid: Optional[Tensor] = None,
                  tpe: Optional[TemporalPE] = None) -> StackOutput:
        """Run the transformer on one frame.

        Args:
            feats: the frame's :meth:`encode` output.
            long_memories: per layer, the long-term memory (slots ``[T, L, B, .]``, bank order).
            short_memories: per layer, the short-term memory (slots ``[L, B, .]``).
            id_emb: reference mode: the frame's identity embedding; the memories are then ignored.
            need_mass: also return layer 0's long-term attention mass per memory frame ``[B, L, T]``.
            need_keys: also return layer 0's long-term keys ``[T, L, B, D]`` as attended (temporal PE added), the
                keys a redundancy policy compares.
            memory_valid: ``[T]`` bool, False for the empty slots of a static-capacity memory; those slots get no
                attention (and no mass). None: every slot holds a frame.
            tpe: the temporal PE of the memory slots (:meth:`temporal_pe` with ``slots``); required with
                ``memory_valid`` when the model has a temporal PE, since it depends on the filled count. Default:
                the temporal PE of ``T`` frames.
        """
        if id_emb is None and (long_memories is None or short_memories is None):
            raise ValueError("propagate needs the memories, or an identity embedding for a reference frame")
        if id_emb is not None:
            tpe, memory_valid = self.temporal_pe(1), None
        elif tpe is None:
            tpe = self.temporal_pe(long_memories[0][0].shape[0])
            if tpe is not None and memory_valid is not None:
                raise ValueError("propagate over a static-capacity memory needs its temporal PE (tpe)")
        return self._transformer(feats[-1], long_memories, short_memories, id_emb, tpe, need_mass, need_keys,
                                 memory_valid)

    def _transformer(self, embedding: Tensor, long_memories: Optional[Sequence[LayerMemory]],
                     short_memories: Optional[Sequence[LayerMemory]], id_emb: Optional[Tensor],
                     tpe: Optional[TemporalPE], need_mass: bool, need_keys: bool,
                     memory_valid: Optional[Tensor]) -> StackOutput:
        raise NotImplementedError

    def decode(self, feats: Sequence[Tensor], stack: StackOutput) -> Tensor:
        """Stride-4 identity logits ``[B, max_obj_num + 1, h4, w4]`` of a propagated frame."""
        size_2d = tuple(feats[-1].shape[-2:])
        inputs = [feats[-1]] + [seq_to_map(f, size_2d) for f in stack.features]
        return self.decoder(inputs, feats)

    def memorize(self, stack: StackOutput, id_emb: Tensor) -> tuple[list[LayerMemory], list[LayerMemory]]:
        """Per layer, the frame's long-term and short-term memory entries for its identity embedding ``id_emb``."""
        return self.LSTT.memorize(stack.states, id_emb)
