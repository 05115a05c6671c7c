"""Model configs: the YAML files of every released layout and the typed validation."""
from pathlib import Path

import pytest

from aot_plus.config import ConfigError
from aot_plus.models.config import ModelConfig, TemporalPEConfig
from aot_plus.models.keys import load_model_config, resolve_config_path

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "models"


def test_every_listing_has_a_config():
    names = {p.stem for p in CONFIGS.glob("*.yaml")}
    zoo = {f"aot_{m}" for m in ("aott", "aots", "aotb", "aotl", "r50_aotl", "swinb_aotl", "deaott", "deaots",
                                "deaotb", "deaotl", "r50_deaotl", "swinb_deaotl")}
    vost = {f"rmem_{m}" for m in ("aott", "aots", "aotb", "aotl", "r50_aotl", "r50_deaotl", "swinb_aotl")}
    assert zoo | vost <= names


@pytest.mark.parametrize("name,expected", [
    ("aot_aott", dict(family="aot", aot_block="zoo", ignore_token=False, num_layers=1, dims=(24, 32, 96, 1280))),
    ("rmem_r50_aotl", dict(family="aot", aot_block="vost", ignore_token=True, num_layers=3, linear_q=False,
                           temporal_pe=TemporalPEConfig(enabled=True, slots=4), dims=(256, 512, 1024, 1024))),
    ("rmem_r50_deaotl", dict(family="deaot", ignore_token=True, att_heads=1, decoder_intermediate=False,
                             deaot_att_dim=128)),
    ("aot_swinb_deaotl", dict(family="deaot", encoder="swin_base", align_corners=False, ignore_token=False)),
])
def test_config_values(name, expected):
    cfg = load_model_config(name)
    for key, value in expected.items():
        assert getattr(cfg, key) == value, key


def test_overrides_and_paths():
    cfg = load_model_config(str(CONFIGS / "rmem_aott.yaml"), ["model.num_layers=2", "model.temporal_pe.slots=2"])
    assert cfg.num_layers == 2 and cfg.temporal_pe.slots == 2
    assert resolve_config_path("rmem_aots") == CONFIGS / "rmem_aots.yaml"


def test_errors_name_the_key_and_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  num_layer: 3\n")
    with pytest.raises(ConfigError, match=r"model\.num_layer.*bad\.yaml.*num_layers"):
        load_model_config(bad)
    bad.write_text("model:\n  temporal_pe: {slots: 3}\n")
    with pytest.raises(ConfigError, match="slots"):
        load_model_config(bad)
    with pytest.raises(ConfigError, match="known models"):
        load_model_config("no_such_model")


def test_validation():
    with pytest.raises(ValueError, match="att_heads"):
        ModelConfig(att_heads=3)
    with pytest.raises(ValueError, match="family"):
        ModelConfig(family="stm")
    assert ModelConfig(family="deaot", att_heads=1).deaot_att_dim == 128
    assert ModelConfig(family="deaot", att_heads=2).deaot_att_dim == 128
