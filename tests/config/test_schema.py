"""The experiment config resolves the memory policy's family-dependent constants from ``model.family``."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from aot_plus.config import load_config
from aot_plus.config.cli import add_config_arguments, config_from_args
from aot_plus.memory import EMFSConfig, RMemConfig

MODELS = Path(__file__).resolve().parents[2] / "configs" / "models"


def test_rmem_follows_the_model_family():
    deaot = load_config(MODELS / "rmem_r50_deaotl.yaml", ["memory=rmem"]).memory.policy
    aot = load_config(MODELS / "rmem_r50_aotl.yaml", ["memory=rmem"]).memory.policy
    assert isinstance(deaot, RMemConfig) and deaot.score_every_insertion is True
    assert isinstance(aot, RMemConfig) and aot.score_every_insertion is False


def test_emfs_constants_follow_the_model_family():
    deaot = load_config(MODELS / "rmem_r50_deaotl.yaml", ["memory=emfs"]).memory.policy
    aot = load_config(MODELS / "rmem_r50_aotl.yaml", ["memory=emfs"]).memory.policy
    assert isinstance(deaot, EMFSConfig) and isinstance(aot, EMFSConfig)
    assert (deaot.penalty_slope, deaot.penalty_threshold, deaot.relevance_weight, deaot.score_every_insertion) == (
        7.0, 0.25, 2.0, True)
    assert (aot.penalty_slope, aot.penalty_threshold, aot.relevance_weight, aot.score_every_insertion) == (
        10.0, 0.4, 4.0, False)


def test_an_explicit_value_wins():
    cfg = load_config(MODELS / "rmem_r50_deaotl.yaml",
                      ["memory=emfs", "memory.policy.score_every_insertion=false", "memory.policy.penalty_slope=3"])
    policy = cfg.memory.policy
    assert (policy.score_every_insertion, policy.penalty_slope, policy.penalty_threshold) == (False, 3.0, 0.25)
    aot = load_config(MODELS / "rmem_r50_aotl.yaml", ["memory=rmem", "memory.policy.score_every_insertion=true"])
    assert aot.memory.policy.score_every_insertion is True


def test_print_config_shows_resolved_values(capsys):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    args = parser.parse_args(["--config", str(MODELS / "rmem_r50_deaotl.yaml"), "--print-config", "memory=emfs"])
    with pytest.raises(SystemExit) as exit_info:
        config_from_args(args)
    assert exit_info.value.code == 0
    policy = yaml.safe_load(capsys.readouterr().out)["memory"]["policy"]
    assert policy["name"] == "emfs" and policy["score_every_insertion"] is True
    assert (policy["penalty_slope"], policy["penalty_threshold"], policy["relevance_weight"]) == (7.0, 0.25, 2.0)
