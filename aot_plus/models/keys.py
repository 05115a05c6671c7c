"""Print a model's state_dict listing: ``python -m aot_plus.models.keys NAME``.

NAME is a file name of ``configs/models`` without ``.yaml`` (the listing names, e.g. ``aot_r50_aotl`` or
``rmem_r50_deaotl``) or the path of any config file with a ``model`` section. Each line is
``key<TAB>shape<TAB>dtype``, the format of ``parity/state_dict_keys/*.txt``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import torch

from aot_plus.config import ConfigError, from_dict, read_yaml_tree
from aot_plus.config.loader import apply_overrides, configs_root
from aot_plus.models.build import build_model
from aot_plus.models.config import ModelConfig


def resolve_config_path(name: Union[str, Path]) -> Path:
    """A config path: ``name`` itself if it is a file, else ``configs/models/<name>.yaml``."""
    path = Path(name)
    if path.is_file():
        return path
    candidate = configs_root() / "models" / f"{name}.yaml"
    if candidate.is_file():
        return candidate
    known = sorted(p.stem for p in (configs_root() / "models").glob("*.yaml"))
    raise ConfigError(f"no config file {name!r} and no configs/models/{name}.yaml; known models: {', '.join(known)}")


def load_model_config(name: Union[str, Path], overrides: Iterable[str] = ()) -> ModelConfig:
    """The ``model`` section of a config file (or model name), with ``model.key=value`` overrides applied."""
    path = resolve_config_path(name)
    tree = read_yaml_tree(path)
    overrides = list(overrides)
    if overrides:
        tree = apply_overrides(tree, overrides, object, configs_root(path))
    return from_dict(ModelConfig, tree.get("model"), str(path), prefix="model")


def format_listing(state_dict: dict[str, torch.Tensor]) -> list[str]:
    """``key<TAB>shape<TAB>dtype`` lines in state_dict order (shape as a Python tuple, dtype without ``torch.``)."""
    return [f"{key}\t{tuple(value.shape)}\t{str(value.dtype).replace('torch.', '')}"
            for key, value in state_dict.items()]


def model_listing(cfg: ModelConfig) -> list[str]:
    """The listing lines of the network built from ``cfg``."""
    return format_listing(build_model(cfg).state_dict())


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="listing name (configs/models/<name>.yaml) or config file path")
    parser.add_argument("overrides", nargs="*", help="model.key=value overrides")
    args = parser.parse_args(argv)
    try:
        cfg = load_model_config(args.name, args.overrides)
    except ConfigError as err:
        parser.error(str(err))
    sys.stdout.write("\n".join(model_listing(cfg)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
