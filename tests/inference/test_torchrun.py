"""Two ranks under torchrun (gloo on CPU) split the sequences, and rank 0 scores the union."""
from __future__ import annotations

import re
import subprocess

from .conftest import BASE_OVERRIDES, CONFIG, PYTHON, REPO, subprocess_env


def test_two_ranks_share_the_sequences(vost_root, checkpoint, tmp_path):
    out = tmp_path / "ddp"
    cmd = [PYTHON, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "aot_plus.eval",
           "--config", str(CONFIG), "--dataset", "vost", "--split", "val", "--ckpt", str(checkpoint), "--output",
           str(out), "--dataset-path", str(vost_root), *BASE_OVERRIDES]
    done = subprocess.run(cmd, cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = {int(r): int(n) for r, n in re.findall(r"rank (\d)/2 on cpu: (\d) of 3 sequence", done.stderr)}
    assert sorted(counts) == [0, 1] and sum(counts.values()) == 3 and min(counts.values()) >= 1
    names = (vost_root / "ImageSets" / "val.txt").read_text().split()
    for name in names:
        frames = sorted(p.stem for p in (vost_root / "JPEGImages_10fps" / name).glob("*.jpg"))
        assert sorted(p.stem for p in (out / name).iterdir()) == frames
    assert (out / "global_results-val.csv").is_file()
    assert "J-Mean" in done.stdout and done.stdout.count("Global results") == 1
