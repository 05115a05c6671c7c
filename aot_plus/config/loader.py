"""Typed configuration: YAML files with ``_base_`` inheritance and ``a.b=value`` overrides.

Every config file is a *full tree*: its top-level keys are sections of the schema (``model``, ``memory``, ...).
A file may list parent files under ``_base_`` (a path or a list of paths, relative to the file). Parents are
merged first, in order, then the file itself:

* dicts merge key by key, lists and scalars replace;
* a dict whose ``name`` changes is replaced whole, so swapping ``memory.policy`` from ``rmem`` to ``emfs`` never
  inherits RMem's constants.

Command-line overrides are ``dotted.key=value`` strings; the value is parsed with ``yaml.safe_load`` (so
``3``, ``0.5``, ``true``, ``null``, ``[1, 2]`` and ``{name: fifo}`` work). ``section=NAME`` where the section is
a dataclass swaps in ``configs/<section dir>/NAME.yaml`` (e.g. ``memory=emfs``).

The merged tree is converted into frozen dataclasses by :func:`from_dict`, which rejects unknown keys (naming
the dotted key, the file and the nearest valid key) and values of the wrong type.
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Iterable, Mapping, Optional, TypeVar, Union

import yaml

from aot_plus.io.atomic import write_text

T = TypeVar("T")

#: Where ``section=NAME`` overrides look for ``NAME.yaml`` (relative to the configs root).
SECTION_DIRS: dict[str, str] = {"model": "models", "memory": "memory", "data": "data", "train": "stages",
                                "eval": "eval"}


_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class ConfigError(ValueError):
    """A configuration problem; the message names the key and the file it came from."""


class Tagged:
    """Base for a family of config dataclasses told apart by their ``name`` field.

    Declare the family root as a dataclass inheriting ``Tagged`` with a ``name: str`` field, and each variant as
    ``class FifoConfig(PolicyConfig, tag="fifo")``: the variant is registered under its tag and its ``name``
    defaults to the tag. :func:`from_dict` picks the variant named by the data's ``name``.
    """

    _variants: ClassVar[dict[str, type]]

    def __init_subclass__(cls, tag: Optional[str] = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if Tagged in cls.__bases__:
            cls._variants = {}
        if tag is not None:
            if tag in cls._variants:
                raise TypeError(f"config tag {tag!r} is registered twice ({cls._variants[tag].__name__}, {cls.__name__})")
            own = dict(cls.__dict__.get("__annotations__", {}))
            cls.__annotations__ = {"name": "str", **{k: v for k, v in own.items() if k != "name"}}
            cls.name = tag
            cls._variants[tag] = cls

    @classmethod
    def variants(cls) -> dict[str, type]:
        """The registered variants of this family, by tag."""
        return dict(cls._variants)


# ---------------------------------------------------------------------------------------------------------------
# dict -> dataclass


def _nearest(key: str, valid: Iterable[str]) -> str:
    match = difflib.get_close_matches(key, list(valid), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


_PLAIN_TYPES = {int: "an integer", float: "a number", bool: "true/false", str: "a string", type(None): "null"}


def _type_name(tp: Any) -> str:
    """A type in a user's words: ``Optional[int]`` -> ``an integer or null``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in _PLAIN_TYPES:
        return _PLAIN_TYPES[tp]
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in args)
    if origin is typing.Literal:
        return f"one of {list(args)}"
    if origin in (tuple, list):
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, key: str, source: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    where = f"config key {key!r} in {source}"
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(f"{where}: null is not allowed (expected {_type_name(tp)})")
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key, source)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, source, prefix=key)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            items = [_convert(v, a, f"{key}[{i}]", source) for i, (v, a) in enumerate(zip(value, args))]
        else:
            item_tp = args[0] if args else Any
            items = [_convert(v, item_tp, f"{key}[{i}]", source) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        val_tp = args[1] if args else Any
        return {str(k): _convert(v, val_tp, f"{key}.{k}", source) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
            # YAML 1.1 (PyYAML) reads exponent literals without a dot, such as 1e-3, as strings.
            return float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: cannot read {value!r} as {_type_name(tp)}")


def from_dict(cls: type[T], data: Optional[Mapping[str, Any]], source: str = "<dict>", prefix: str = "") -> T:
    """Build the dataclass ``cls`` (recursively) from ``data``, validating keys and types.

    Args:
        cls: a dataclass type; a :class:`Tagged` family root picks its variant from ``data['name']``.
        data: the mapping to read (None or {} gives the defaults).
        source: where the data came from, for error messages (a file name).
        prefix: dotted key of ``data`` inside the whole tree, for error messages.
    """
    data = {} if data is None else data
    label = prefix or "<root>"
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key {label!r} in {source}: expected a mapping, got {data!r}")
    if isinstance(cls, type) and issubclass(cls, Tagged):
        name = data.get("name", getattr(cls, "name", None))
        variants = cls._variants
        if name not in variants:
            raise ConfigError(f"config key {prefix + '.name' if prefix else 'name'!r} in {source}: unknown "
                              f"{cls.__name__} {name!r}; expected one of {sorted(variants)}")
        cls = variants[name]
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            raise ConfigError(f"unknown config key {dotted!r} in {source}{_nearest(str(key), fields)}")
        kwargs[key] = _convert(value, hints[key], dotted, source)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"config section {label!r} in {source}: {err}") from err


def to_dict(cfg: Any) -> Any:
    """Plain YAML-ready data (dicts, lists, scalars) of a config dataclass tree."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: to_dict(v) for k, v in cfg.items()}
    return cfg


def dump_config(cfg: Any) -> str:
    """The resolved config as YAML text (what ``--print-config`` shows and checkpoints store)."""
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def save_config(cfg: Any, path: Union[str, os.PathLike]) -> None:
    """Write the resolved config as YAML, atomically."""
    write_text(path, dump_config(cfg))


# ---------------------------------------------------------------------------------------------------------------
# YAML files


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``update`` into a copy of ``base`` (see the module docstring for the rules)."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping) and old.get("name") == value.get("name", old.get("name")):
            out[key] = merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml_tree(path: Union[str, os.PathLike], _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read one config file with its ``_base_`` parents merged in."""
    path = Path(path).resolve()
    if path in _seen:
        raise ConfigError(f"config file {path} includes itself through _base_")
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, got {type(data).__name__}")
    bases = data.pop("_base_", [])
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(bases, list):
        raise ConfigError(f"config key '_base_' in {path}: expected a path or a list of paths")
    tree: dict[str, Any] = {}
    for base in bases:
        tree = merge(tree, read_yaml_tree(path.parent / base, _seen + (path,)))
    return merge(tree, data)


def configs_root(path: Optional[Union[str, os.PathLike]] = None) -> Path:
    """The ``configs/`` folder: the nearest ancestor of ``path`` named ``configs``, else the repository's."""
    if path is not None:
        for parent in Path(path).resolve().parents:
            if parent.name == "configs":
                return parent
    return Path(__file__).resolve().parents[2] / "configs"


def apply_overrides(tree: dict[str, Any], overrides: Iterable[str], schema: type, root: Path) -> dict[str, Any]:
    """Apply ``a.b=value`` and ``section=NAME`` overrides to a merged tree.

    Section selections (``memory=rmem``: the whole section from ``configs/memory/rmem.yaml``) are applied first,
    then the ``key=value`` overrides, each kind in the order given. So ``memory.long_term_gap=2 memory=fifo`` keeps
    the gap 2 (a selection coming later used to discard it silently), and a sweep's ``--axis memory=fifo,rmem``
    keeps the ``memory.*`` values of its base overrides.
    """
    section_types = {f.name: f.type for f in dataclasses.fields(schema)} if dataclasses.is_dataclass(schema) else {}
    parsed = []
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip().lstrip("-")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected key=value")
        value = yaml.safe_load(text) if text.strip() else None
        is_selection = "." not in key and key in section_types and isinstance(value, str)
        parsed.append((not is_selection, item, key, value))
    for is_key_value, item, key, value in sorted(parsed, key=lambda entry: entry[0]):
        if not is_key_value:
            file = root / SECTION_DIRS.get(key, key) / f"{value}.yaml"
            if not file.is_file():
                raise ConfigError(f"override {item!r}: no config file {file}")
            part = read_yaml_tree(file)
            if key not in part:
                raise ConfigError(f"override {item!r}: {file} has no top-level {key!r} section")
            tree[key] = part[key]
            continue
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else child
                if not isinstance(child, dict):
                    raise ConfigError(f"override {item!r}: {part!r} is not a section")
                node[part] = child
            node = child
        old = node.get(parts[-1])
        if isinstance(old, dict) and isinstance(value, dict) and value.get("name", old.get("name")) == old.get("name"):
            node[parts[-1]] = merge(old, value)
        else:
            node[parts[-1]] = value
    return tree


def load_config(path: Optional[Union[str, os.PathLike]], overrides: Iterable[str] = (), schema: Optional[type] = None):
    """Load a config file (or only defaults when ``path`` is None) into the typed schema.

    Args:
        path: a YAML file (full tree, may use ``_base_``), or None.
        overrides: ``dotted.key=value`` / ``section=NAME`` strings: the selections first, then the key=value ones,
            each in order (:func:`apply_overrides`).
        schema: the dataclass of the whole tree; defaults to :class:`aot_plus.config.schema.ExperimentConfig`.
    """
    if schema is None:
        from aot_plus.config.schema import ExperimentConfig
        schema = ExperimentConfig
    tree = read_yaml_tree(path) if path is not None else {}
    overrides = list(overrides)
    tree = apply_overrides(tree, overrides, schema, configs_root(path))
    source = str(path) if path is not None else "<defaults>"
    if overrides:
        source += " (with overrides " + " ".join(overrides) + ")"
    return from_dict(schema, tree, source)
