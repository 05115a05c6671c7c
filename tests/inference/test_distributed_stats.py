"""Tests of sequence sharding, device choice and the speed/memory bookkeeping."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aot_plus.inference.distributed import DistInfo, dist_info_from_env, select_device, shard
from aot_plus.inference.stats import PeakMemory, RunStats, SequenceStats


def test_shard_balances_frames_and_covers_every_item():
    sizes = [100, 10, 60, 50, 40, 5]
    parts = shard(sizes, 2)
    assert sorted(i for p in parts for i in p) == list(range(6))
    loads = [sum(sizes[i] for i in p) for p in parts]
    assert loads == [140, 125]  # 100+40 | 60+50+10+5
    assert parts == [[0, 4], [1, 2, 3, 5]]
    assert shard(sizes, 1) == [list(range(6))]
    assert shard([3], 4) == [[0], [], [], []]


def test_dist_info_reads_torchrun_env(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert dist_info_from_env() == DistInfo(3, 4, 1)
    monkeypatch.setenv("RANK", "x")
    with pytest.raises(ValueError, match="RANK"):
        dist_info_from_env()


def test_select_device_cpu_and_missing_cuda():
    assert select_device("cpu", DistInfo()) == torch.device("cpu")
    if not torch.cuda.is_available():
        assert select_device("auto", DistInfo()) == torch.device("cpu")
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda", DistInfo())


def test_run_stats_aggregate_like_the_reference():
    a = SequenceStats("a", frames=10, seconds=2.0, peak_bytes=5)
    b = SequenceStats("b", frames=30, seconds=3.0, peak_bytes=9)
    assert a.fps == 5.0
    run = RunStats.combine([RunStats.of([a]), RunStats.of([b])])
    assert run.frames == 40 and run.sequences == 2 and run.peak_bytes == 9
    assert run.all_frame_fps == pytest.approx(40 / 5.0)
    assert run.all_seq_fps == pytest.approx(1.0 / ((0.2 + 0.1) / 2))


def _rss_bytes() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no /proc/self/status on this platform")


def test_peak_rss_covers_a_fresh_allocation():
    meter = PeakMemory(torch.device("cpu"))
    meter.reset()
    before = _rss_bytes()
    block = np.ones(64 << 20, np.uint8)  # 64 MiB, touched
    assert meter.peak_bytes() >= before + (60 << 20)
    assert meter.kind == "peak RSS"
    del block
