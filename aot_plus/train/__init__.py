"""Training: ``python -m aot_plus.train --config CONFIG [key=value ...] [--resume auto|PATH]``.

Modules: :mod:`~aot_plus.train.config` (the ``train`` section), :mod:`~aot_plus.train.loop` (the loop),
:mod:`~aot_plus.train.sequence` (the forward over a clip), :mod:`~aot_plus.train.losses`,
:mod:`~aot_plus.train.optim`, :mod:`~aot_plus.train.ema`, :mod:`~aot_plus.train.checkpoint`,
:mod:`~aot_plus.train.sampler`, :mod:`~aot_plus.train.logger` and :mod:`~aot_plus.train.setup`; process
set-up is shared with evaluation (:mod:`aot_plus.distributed`). Only the config is imported here, so the config schema stays light.
"""
from aot_plus.train.config import TrainConfig

__all__ = ["TrainConfig"]
