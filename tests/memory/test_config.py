"""Memory config: the YAML files, validation, the gap rule and the per-family reference presets."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aot_plus.config import ConfigError, from_dict, load_config
from aot_plus.memory import (EMFSConfig, FifoConfig, LongTermGapConfig, MemoryConfig, RMemConfig, UnboundedConfig,
                             resolve_gap)

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "memory"


@dataclass(frozen=True)
class Root:
    memory: MemoryConfig = field(default_factory=MemoryConfig)


def load(name: str, *overrides: str) -> MemoryConfig:
    return load_config(CONFIGS / f"{name}.yaml", overrides, schema=Root).memory


def test_yaml_files_hold_the_reference_defaults():
    assert load("unbounded").policy == UnboundedConfig() and load("unbounded").capacity is None
    assert load("fifo").policy == FifoConfig() and load("fifo").capacity == 9
    # family-dependent constants stay "auto" until an experiment (or session) resolves them from model.family
    assert load("rmem").policy == RMemConfig() and load("rmem").policy.unresolved() == ["score_every_insertion"]
    assert load("emfs").policy == EMFSConfig()
    assert load("rmem").resolve("aot").policy == RMemConfig.for_family("aot")
    assert load("emfs").resolve("deaot").policy == EMFSConfig.for_family("deaot")
    assert not (CONFIGS / "rmem_deaot.yaml").exists() and not (CONFIGS / "emfs_deaot.yaml").exists()
    for name in ("unbounded", "fifo", "rmem", "emfs"):
        memory = load(name)
        assert memory.reference_frames == 1 and memory.long_term_gap == LongTermGapConfig()


def test_reference_constants():
    rmem = RMemConfig()
    assert (rmem.moving_mean_factor, rmem.ucb_offset, rmem.ucb_scale) == (0.8, 8.0, 1.5)
    aot, deaot = EMFSConfig.for_family("aot"), EMFSConfig.for_family("deaot")
    assert (aot.penalty_slope, aot.penalty_threshold, aot.relevance_weight, aot.score_every_insertion) == (
        10.0, 0.4, 4.0, False)
    assert (deaot.penalty_slope, deaot.penalty_threshold, deaot.relevance_weight, deaot.score_every_insertion) == (
        7.0, 0.25, 2.0, True)
    with pytest.raises(ValueError, match="model family"):
        EMFSConfig.for_family("swin")


def test_overrides_and_policy_swap():
    memory = load("rmem", "memory.policy.ucb_scale=2", "memory.max_recent_frames=4", "memory.long_term_gap=3")
    assert memory.policy.ucb_scale == 2.0 and memory.capacity == 5
    assert memory.long_term_gap == LongTermGapConfig(mode="fixed", value=3)
    swapped = load("rmem", "memory.policy={name: emfs}")
    assert swapped.policy == EMFSConfig()


def test_errors_name_key_and_file():
    with pytest.raises(ConfigError, match=r"memory\.policy\.ucb_scal'.*rmem\.yaml.*ucb_scale"):
        load("rmem", "memory.policy.ucb_scal=2")
    with pytest.raises(ConfigError, match=r"penalty_slope.*expected a number or one of \['auto'\], got 'steep'"):
        load("emfs", "memory.policy.penalty_slope=steep")
    with pytest.raises(ConfigError, match="unknown PolicyConfig 'lru'"):
        load("fifo", "memory.policy.name=lru")
    with pytest.raises(ConfigError, match="max_recent_frames must be >= 1"):
        load("fifo", "memory.max_recent_frames=0")
    with pytest.raises(ConfigError, match="moving_mean_factor"):
        load("rmem", "memory.policy.moving_mean_factor=1.5")
    with pytest.raises(ConfigError, match="protected_positions"):
        load("rmem", "memory.policy.protected_positions=all")


def test_resolve_gap_per_sequence_rule_with_half_to_even_rounding():
    memory = MemoryConfig()
    assert resolve_gap(memory, 600) == 20
    assert resolve_gap(memory, 75) == 5  # round(2.5) = 2 -> minimum 5
    assert resolve_gap(memory, 165) == 6  # round(5.5) = 6
    assert resolve_gap(memory, 195) == 6  # round(6.5) = 6 (half to even)
    assert resolve_gap(memory, 225) == 8  # round(7.5) = 8
    assert resolve_gap(memory, 1) == 5
    custom = LongTermGapConfig(frames_per_step=10, minimum=2)
    assert resolve_gap(custom, 25) == 2 and resolve_gap(custom, 35) == 4
    with pytest.raises(ValueError, match="needs the video length"):
        resolve_gap(memory)


def test_fixed_gap_and_shorthand():
    memory = from_dict(MemoryConfig, {"long_term_gap": 4})
    assert memory.long_term_gap == LongTermGapConfig(mode="fixed", value=4)
    assert resolve_gap(memory, 600) == 4 and resolve_gap(memory.long_term_gap) == 4
    assert from_dict(MemoryConfig, {"long_term_gap": {"mode": "fixed", "value": 2}}).long_term_gap.value == 2
    with pytest.raises(ConfigError, match="long_term_gap"):
        from_dict(MemoryConfig, {"long_term_gap": {"mode": "fixed", "value": 0}})
    with pytest.raises(ConfigError, match="long_term_gap"):
        from_dict(MemoryConfig, {"long_term_gap": "often"})
