"""The plot helpers write real PNG files with the expected content size."""
import numpy as np
import pytest
from PIL import Image

from aot_plus.viz import plot_j_over_time, plot_memory_timeline

pytest.importorskip("matplotlib")


def test_memory_timeline_png(tmp_path):
    timelines = {"fifo": [[0], [0, 1], [0, 1, 2], [0, 2, 3]], "rmem": [[0], [0, 1], [0, 1, 2], [0, 1, 3]]}
    out = plot_memory_timeline(timelines, tmp_path / "plots" / "seq_memory.png", title="seq")
    image = np.asarray(Image.open(out))
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0
    assert not list(tmp_path.glob("plots/.*"))


def test_j_over_time_png_and_empty_error(tmp_path):
    out = plot_j_over_time({"1": [1.0, 0.9, np.nan, 0.5], "2": [0.2, 0.3, 0.4, 0.5]}, tmp_path / "j.png")
    assert out.stat().st_size > 1000
    with pytest.raises(ValueError, match="at least one"):
        plot_j_over_time({}, tmp_path / "none.png")
