"""Typed configuration for aot_plus: frozen dataclasses loaded from YAML (see :mod:`aot_plus.config.loader`)."""
from aot_plus.config.loader import (ConfigError, Tagged, dump_config, from_dict, load_config, merge, read_yaml_tree,
                                    save_config, to_dict)

__all__ = ["ConfigError", "Tagged", "dump_config", "from_dict", "load_config", "merge", "read_yaml_tree",
           "save_config", "to_dict"]
