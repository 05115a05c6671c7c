"""Packaging: console scripts, a torch range for the package (so an installed torch 2.x is kept) and the exact pin
for the set-up scripts."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")
from packaging.requirements import Requirement  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _torch(requirements) -> Requirement:
    (torch,) = [Requirement(r) for r in requirements if Requirement(r).name == "torch"]
    return torch


def test_package_accepts_any_torch_2_from_2_1():
    spec = _torch(PROJECT["dependencies"]).specifier
    for version in ("2.1.0", "2.4.1", "2.13.0", "2.20.0"):
        assert spec.contains(version), version
    for version in ("2.0.1", "1.13.1"):
        assert not spec.contains(version), version


def test_requirements_keep_the_exact_cpu_pin():
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    pinned = _torch([line for line in lines if line])
    assert str(pinned.specifier) == "==2.13.0"
    assert _torch(PROJECT["dependencies"]).specifier.contains("2.13.0")


def test_console_scripts_point_at_main_functions():
    scripts = PROJECT["scripts"]
    assert {"aot-plus-train", "aot-plus-eval", "aot-plus-predict", "vost-eval"} <= set(scripts)
    for name, target in scripts.items():
        module, _, function = target.partition(":")
        assert re.fullmatch(r"[\w.]+", module) and function == "main", name
        assert callable(getattr(importlib.import_module(module), function)), name


def test_tensorboard_is_optional():
    assert not any(Requirement(r).name == "tensorboard" for r in PROJECT["dependencies"])
    assert any(Requirement(r).name == "tensorboard" for r in PROJECT["optional-dependencies"]["tensorboard"])
