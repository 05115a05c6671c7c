"""Long-term memory of one video: storage (:class:`MemoryBank`), evidence (:class:`Evidence`) and eviction policies.

Storage comes in two layouts with one interface (``memory.storage``, :func:`build_bank`): the growing
:class:`MemoryBank` and the preallocated :class:`StaticMemoryBank` (static shapes for compiled inference).

The three parts do not know each other; the session wires them: propagate (recording the evidence the policy
``needs`` when :meth:`EvictionPolicy.needs_evidence` says so) -> insert into the bank (gap rule, :func:`resolve_gap`)
-> ``policy.after_insert(bank.frame_ids, evidence)`` -> ``bank.remove(position)``.
"""
from aot_plus.memory.evidence import (Evidence, foreground_probability, frame_attention_mass, key_similarity,
                                      relevance)
from aot_plus.memory.bank import MemoryBank
from aot_plus.memory.static_bank import StaticMemoryBank
from aot_plus.memory.policies import EvictionPolicy, PolicyScores, build_policy, registered_policies
from aot_plus.memory.config import (EMFSConfig, FifoConfig, LongTermGapConfig, MemoryConfig, PolicyConfig,
                                    RMemConfig, UnboundedConfig, resolve_gap)
from aot_plus.memory.build import build_bank

__all__ = ["EMFSConfig", "Evidence", "EvictionPolicy", "FifoConfig", "LongTermGapConfig", "MemoryBank",
           "MemoryConfig", "PolicyConfig", "PolicyScores", "RMemConfig", "StaticMemoryBank", "UnboundedConfig",
           "build_bank", "build_policy", "foreground_probability", "frame_attention_mass", "key_similarity",
           "registered_policies", "relevance", "resolve_gap"]
