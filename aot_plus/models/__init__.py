"""AOT / DeAOT networks in both released checkpoint layouts (AOT model zoo and the VOST-stage RMem/EMFS layout)."""
from aot_plus.models.build import build_model
from aot_plus.models.config import ModelConfig, TemporalPEConfig
from aot_plus.models.vos import VOSModel

__all__ = ["ModelConfig", "TemporalPEConfig", "VOSModel", "build_model"]
