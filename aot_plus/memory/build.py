"""The storage a memory config asks for (``memory.storage``)."""
from __future__ import annotations

from typing import Callable, Optional

from aot_plus.memory.bank import MemoryBank
from aot_plus.memory.config import MemoryConfig
from aot_plus.memory.static_bank import StaticMemoryBank


def build_bank(cfg: MemoryConfig, on_change: Optional[Callable[[tuple[int, ...]], None]] = None) -> MemoryBank:
    """A growing :class:`MemoryBank` or, with ``storage: static``, a :class:`StaticMemoryBank` of ``cfg.capacity``."""
    if cfg.storage == "static":
        return StaticMemoryBank(cfg.capacity, on_change)
    return MemoryBank(on_change)
