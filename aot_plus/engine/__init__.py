"""Per-video inference: :class:`VideoSession` wires a network, a memory bank and an eviction policy."""
from aot_plus.engine.config import SessionConfig
from aot_plus.engine.session import VideoSession

__all__ = ["SessionConfig", "VideoSession"]
