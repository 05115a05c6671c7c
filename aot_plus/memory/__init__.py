"""Long-term memory of one video: storage (:class:`MemoryBank`), evidence (:class:`Evidence`) and eviction policies.

The three parts do not know each other; the session wires them: propagate (recording the evidence the policy
``needs`` when :meth:`EvictionPolicy.needs_evidence` says so) -> insert into the bank (gap rule, :func:`resolve_gap`)
-> ``policy.after_insert(bank.frame_ids, evidence)`` -> ``bank.remove(position)``.
"""
from aot_plus.memory.evidence import (Evidence, foreground_probability, frame_attention_mass, key_similarity,
                                      relevance)
from aot_plus.memory.bank import MemoryBank
from aot_plus.memory.policies import EvictionPolicy, PolicyScores, build_policy, registered_policies
from aot_plus.memory.config import (EMFSConfig, FifoConfig, LongTermGapConfig, MemoryConfig, PolicyConfig,
                                    RMemConfig, UnboundedConfig, resolve_gap)

__all__ = ["EMFSConfig", "Evidence", "EvictionPolicy", "FifoConfig", "LongTermGapConfig", "MemoryBank",
           "MemoryConfig", "PolicyConfig", "PolicyScores", "RMemConfig", "UnboundedConfig", "build_policy",
           "foreground_probability", "frame_attention_mass", "key_similarity", "registered_policies", "relevance",
           "resolve_gap"]
