"""Tests of the typed config loader: inheritance, overrides, tagged variants and error messages."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest

from aot_plus.config import ConfigError, Tagged, dump_config, from_dict, load_config, save_config


@dataclass(frozen=True)
class PolicyCfg(Tagged):
    name: str = "plain"


@dataclass(frozen=True)
class PlainCfg(PolicyCfg, tag="plain"):
    pass


@dataclass(frozen=True)
class ScoredCfg(PolicyCfg, tag="scored"):
    factor: float = 0.8
    offset: int = 8


@dataclass(frozen=True)
class MemCfg:
    capacity: Optional[int] = 8
    keep_first: int = 1
    policy: PolicyCfg = field(default_factory=PlainCfg)


@dataclass(frozen=True)
class NetCfg:
    family: Literal["aot", "deaot"] = "aot"
    dims: tuple[int, ...] = (24, 32, 96, 1280)
    heads: int = 8
    tpe: bool = False


@dataclass(frozen=True)
class Root:
    model: NetCfg = field(default_factory=NetCfg)
    memory: MemCfg = field(default_factory=MemCfg)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_and_tag_defaults():
    cfg = from_dict(Root, {})
    assert cfg == Root()
    assert ScoredCfg().name == "scored"
    assert isinstance(from_dict(Root, {"memory": {"policy": {"name": "scored", "offset": 3}}}).memory.policy, ScoredCfg)


def test_base_inheritance_and_name_replacement(tmp_path):
    write(tmp_path / "configs/memory/scored.yaml", "memory:\n  policy: {name: scored, factor: 0.5}\n")
    base = write(tmp_path / "configs/base.yaml", "_base_: memory/scored.yaml\nmodel: {heads: 4, dims: [1, 2]}\n")
    child = write(tmp_path / "configs/exp/child.yaml",
                  "_base_: [../base.yaml]\nmodel: {dims: [3]}\nmemory: {capacity: null}\n")
    cfg = load_config(child, schema=Root)
    assert cfg.model.heads == 4 and cfg.model.dims == (3,)
    assert cfg.memory.capacity is None
    assert cfg.memory.policy == ScoredCfg(factor=0.5)
    swapped = load_config(child, ["memory.policy={name: plain}"], schema=Root)
    assert swapped.memory.policy == PlainCfg()
    assert load_config(base, ["memory.policy.offset=2", "model.tpe=true"], schema=Root).memory.policy.offset == 2


def test_section_swap_override(tmp_path):
    write(tmp_path / "configs/memory/scored.yaml", "memory:\n  capacity: 3\n  policy: {name: scored}\n")
    exp = write(tmp_path / "configs/exp.yaml", "model: {heads: 2}\n")
    cfg = load_config(exp, ["memory=scored"], schema=Root)
    assert cfg.memory.capacity == 3 and isinstance(cfg.memory.policy, ScoredCfg)
    with pytest.raises(ConfigError, match="no config file .*missing.yaml"):
        load_config(exp, ["memory=missing"], schema=Root)


def test_section_selections_apply_before_key_overrides_whatever_their_order(tmp_path):
    """``memory.capacity=5 memory=scored`` keeps the 5 (the later selection used to discard it), key overrides keep
    their own order among themselves, and two selections of one section keep the last."""
    write(tmp_path / "configs/memory/scored.yaml", "memory:\n  capacity: 3\n  policy: {name: scored}\n")
    write(tmp_path / "configs/memory/plain.yaml", "memory:\n  capacity: 7\n  policy: {name: plain}\n")
    exp = write(tmp_path / "configs/exp.yaml", "model: {heads: 2}\n")
    cfg = load_config(exp, ["memory.capacity=5", "memory=scored", "memory.policy.offset=2"], schema=Root)
    assert cfg.memory.capacity == 5 and cfg.memory.policy == ScoredCfg(offset=2)
    assert load_config(exp, ["memory=scored", "memory.capacity=5"], schema=Root).memory.capacity == 5
    assert load_config(exp, ["memory.capacity=5", "memory.capacity=6", "memory=scored"],
                       schema=Root).memory.capacity == 6
    both = load_config(exp, ["memory=scored", "memory.keep_first=0", "memory=plain"], schema=Root)
    assert both.memory.capacity == 7 and both.memory.keep_first == 0 and both.memory.policy == PlainCfg()


def test_unknown_key_names_key_file_and_suggestion(tmp_path):
    exp = write(tmp_path / "exp.yaml", "memory:\n  capacty: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(exp, schema=Root)
    message = str(err.value)
    assert "memory.capacty" in message and str(exp) in message and "capacity" in message


def test_wrong_types_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="model.heads.*integer"):
        from_dict(Root, {"model": {"heads": "8"}}, "x.yaml")
    with pytest.raises(ConfigError, match="model.tpe.*true/false"):
        from_dict(Root, {"model": {"tpe": 1}})
    with pytest.raises(ConfigError, match="model.family.*not one of"):
        from_dict(Root, {"model": {"family": "sam"}})
    with pytest.raises(ConfigError, match="unknown PolicyCfg 'lru'"):
        from_dict(Root, {"memory": {"policy": {"name": "lru"}}})
    with pytest.raises(ConfigError, match="memory.policy.factor"):
        from_dict(Root, {"memory": {"policy": {"name": "plain", "factor": 1.0}}})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", schema=Root)
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config(None, ["memory.capacity"], schema=Root)


def test_int_promotes_to_float_and_roundtrip(tmp_path):
    cfg = from_dict(Root, {"memory": {"policy": {"name": "scored", "factor": 1}}})
    assert cfg.memory.policy.factor == 1.0 and isinstance(cfg.memory.policy.factor, float)
    out = tmp_path / "saved.yaml"
    save_config(cfg, out)
    assert load_config(out, schema=Root) == cfg
    assert "factor: 1.0" in dump_config(cfg)


def test_base_cycle_is_reported(tmp_path):
    a = write(tmp_path / "a.yaml", "_base_: b.yaml\n")
    write(tmp_path / "b.yaml", "_base_: a.yaml\n")
    with pytest.raises(ConfigError, match="includes itself"):
        load_config(a, schema=Root)


def test_exponent_literals_read_as_floats():
    cfg = load_config(None, ["memory.policy={name: scored, factor: 1e-3}"], schema=Root)
    assert cfg.memory.policy.factor == 1e-3
    with pytest.raises(ConfigError, match="expected a number"):
        from_dict(Root, {"memory": {"policy": {"name": "scored", "factor": "fast"}}})
