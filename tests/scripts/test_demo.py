"""A shortened ``bash scripts/demo.sh`` (tiny dataset, a few training steps) runs end to end and prints the table."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
POLICIES = ("unbounded", "fifo", "rmem", "emfs")


@pytest.mark.skipif(shutil.which("bash") is None, reason="the demo is a bash script")
def test_short_demo_prints_the_policy_table_and_writes_plots(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, VENV=sys.prefix, DEMO_SKIP_INSTALL="1", DEMO_OUT=str(out), DEMO_STEPS="2",
               DEMO_SEQUENCES="3", DEMO_FRAMES="8", DEMO_HEIGHT="65", DEMO_WIDTH="97", DEMO_CROP="65",
               DEMO_DEVICE="cpu", DEMO_THREADS="1")
    done = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {}
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"(\w+)\s+(\d+\.\d)\s+(\d+\.\d)\s+(\d+)", line.strip())
        if match:
            rows[match[1]] = (float(match[2]), float(match[3]), int(match[4]))
    assert set(rows) == set(POLICIES), done.stdout
    for j, j_tr, bank in rows.values():
        assert 0.0 <= j <= 100.0 and 0.0 <= j_tr <= 100.0
        assert bank >= 1
    val = (out / "data" / "ImageSets" / "val.txt").read_text().split()
    assert val
    for policy in POLICIES:
        plots = out / "results" / policy / "plots"
        for name in val:
            for suffix in ("_memory.png", "_memory.json", "_J.png"):
                assert (plots / f"{name}{suffix}").stat().st_size > 0
    figure = out / "memory_policies.png"
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert str(figure) in done.stdout
