"""A wrong value's message says the key, the expected type in plain words and the value given."""
from __future__ import annotations

from pathlib import Path

import pytest

from aot_plus.config import load_config
from aot_plus.config.loader import ConfigError

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "models" / "rmem_aott.yaml"


@pytest.mark.parametrize("override, expected", [
    ("memory.max_recent_frames=abc", "config key 'memory.max_recent_frames' in {cfg} (with overrides "
                                     "memory.max_recent_frames=abc): expected an integer or null, got 'abc'"),
    ("eval.num_threads=1.5", "'eval.num_threads' in {cfg} (with overrides eval.num_threads=1.5): expected an integer "
                             "or null, got 1.5"),
    ("eval.max_long_side=[1]", "expected an integer or null, got [1]"),
])
def test_optional_values_name_key_type_and_value(override, expected):
    with pytest.raises(ConfigError) as info:
        load_config(CONFIG, [override])
    assert expected.format(cfg=CONFIG) in str(info.value)
    assert "Optional" not in str(info.value) and "matches none" not in str(info.value)
