"""Per-video inference: :class:`VideoSession` wires a network to one :class:`VideoMemory` per identity group."""
from aot_plus.engine.config import SessionConfig
from aot_plus.engine.session import VideoSession
from aot_plus.engine.video_memory import VideoMemory

__all__ = ["SessionConfig", "VideoMemory", "VideoSession"]
