"""Plots of what a memory policy keeps and how well each object is tracked (matplotlib, optional)."""
from aot_plus.viz.plots import plot_j_over_time, plot_memory_timeline, plot_sequence_timeline

__all__ = ["plot_j_over_time", "plot_memory_timeline", "plot_sequence_timeline"]
