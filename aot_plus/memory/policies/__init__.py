"""Eviction policies: one module per policy, discovered automatically.

Every module of this package is imported when the package is, so a policy defined in a new file here (a config
class ``class MyConfig(PolicyConfig, tag="mine")`` and ``class MyPolicy(EvictionPolicy, config=MyConfig)``)
is selectable as ``memory.policy.name: mine`` without touching any other file.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from aot_plus.memory.policies.base import (EvictionPolicy, ModelFamily, PolicyConfig, PolicyScores, policy_class,
                                           registered_policies)

if TYPE_CHECKING:
    from aot_plus.memory.config import MemoryConfig

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build_policy(memory_cfg: "MemoryConfig") -> EvictionPolicy:
    """The eviction policy selected by ``memory.policy``, bound to the memory's reference count and capacity."""
    policy_cfg = memory_cfg.policy
    return policy_class(policy_cfg)(policy_cfg, memory_cfg.reference_frames, memory_cfg.capacity)


__all__ = ["EvictionPolicy", "ModelFamily", "PolicyConfig", "PolicyScores", "build_policy", "policy_class",
           "registered_policies"]
