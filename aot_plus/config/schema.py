"""The whole experiment config: one typed section per package, each defined next to the code that reads it."""
from __future__ import annotations

from dataclasses import dataclass, field

from aot_plus.data.config import DataConfig
from aot_plus.inference.config import EvalConfig
from aot_plus.memory.config import MemoryConfig
from aot_plus.models.config import ModelConfig
from aot_plus.train.config import TrainConfig


@dataclass(frozen=True)
class ExperimentConfig:
    """Root of every config file: ``model``, ``memory``, ``data``, ``train`` and ``eval`` sections.

    Building it resolves what follows the model (so ``--print-config`` and the saved config show the values that
    run; explicit values are kept): the memory policy's ``auto`` constants from ``model.family`` and the training
    crop from ``model.align_corners``.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self) -> None:
        # The training crop follows the model's align_corners unless the data section sets it.
        object.__setattr__(self, "data", self.data.for_model(self.model.align_corners))
        object.__setattr__(self, "memory", self.memory.resolve(self.model.family))
