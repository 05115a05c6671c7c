"""The network calls of one propagated frame, eager or compiled with ``torch.compile`` (``eval.compile``).

A session calls :meth:`FrameStep.encode` once per frame and :meth:`FrameStep.propagate_decode` once per identity
group. Over a static-capacity memory (``memory.storage: static``, ``docs/static-memory.md``) every tensor of those
calls has the same shape on every frame, so the compiled graphs are built at the first frames (one per value of
``need_mass``) and reused for the rest of every video of that input size. Reference frames run eager.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

from aot_plus.memory.bank import LayerMemory
from aot_plus.models.layers.lstt import StackOutput
from aot_plus.models.layers.position import TemporalPE
from aot_plus.models.vos import VOSModel


class FrameStep:
    """Encode, propagate and decode with one network; build it once per network and share it between sessions.

    Args:
        model: the network, on its device and in eval mode.
        compile: compile :meth:`encode` and :meth:`propagate_decode` with ``torch.compile`` (static shapes; use
            with ``memory.storage: static``, otherwise every new bank size recompiles).
        channels_last: convert the network's weights and every input image to the channels-last memory format
            (faster convolutions on CUDA tensor cores; the weights are converted in place).
        compile_mode: ``torch.compile`` mode (``default``; ``reduce-overhead`` adds CUDA graphs on CUDA).
        compile_backend: ``torch.compile`` backend (``inductor`` generates kernels; ``aot_eager`` only traces,
            which tests use to check graph capture quickly).
    """

    def __init__(self, model: VOSModel, compile: bool = False, channels_last: bool = False,
                 compile_mode: str = "default", compile_backend: str = "inductor") -> None:
        self.model = model
        self.compiled = compile
        self.channels_last = channels_last
        if channels_last:
            model.to(memory_format=torch.channels_last)
        self._encode: Callable[[Tensor], list[Tensor]] = model.encode
        self._propagate_decode = self._run_propagate_decode
        if compile:
            options = {"dynamic": False, "backend": compile_backend}
            if compile_backend == "inductor":
                options["mode"] = compile_mode
            self._encode = torch.compile(model.encode, **options)
            self._propagate_decode = torch.compile(self._run_propagate_decode, **options)

    def encode(self, image: Tensor) -> list[Tensor]:
        """:meth:`VOSModel.encode` of a normalised ``[B, 3, H, W]`` image."""
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        return self._encode(image)

    def propagate_decode(self, feats: Sequence[Tensor], long_memories: Sequence[LayerMemory],
                         short_memories: Sequence[LayerMemory], need_mass: bool, need_keys: bool,
                         memory_valid: Optional[Tensor], tpe: Optional[TemporalPE]) -> tuple[Tensor, StackOutput]:
        """:meth:`VOSModel.propagate` over the memories then :meth:`VOSModel.decode`: ``(logits, stack)`` (the
        stack without its decoder features). ``tpe`` is the slots' temporal PE (None without one)."""
        pe = (None, None) if tpe is None else (tpe.current, tpe.memory)  # tensors, not an object, cross the graph
        logits, states, mass, keys = self._propagate_decode(list(feats), list(long_memories), list(short_memories),
                                                            need_mass, need_keys, memory_valid, *pe)
        return logits, StackOutput([], states, mass, keys)

    def _run_propagate_decode(self, feats: list[Tensor], long_memories: list[LayerMemory],
                              short_memories: list[LayerMemory], need_mass: bool, need_keys: bool,
                              memory_valid: Optional[Tensor], pe_current: Optional[Tensor],
                              pe_memory: Optional[Tensor]
                              ) -> tuple[Tensor, list[LayerMemory], Optional[Tensor], Optional[Tensor]]:
        tpe = None if pe_memory is None else TemporalPE(pe_current, pe_memory)
        stack = self.model.propagate(feats, long_memories, short_memories, need_mass=need_mass, need_keys=need_keys,
                                     memory_valid=memory_valid, tpe=tpe)
        return self.model.decode(feats, stack), stack.states, stack.mass, stack.keys
