"""aot_plus: AOT / DeAOT video object segmentation with restricted memory banks (RMem, EMFS, FIFO)."""

__version__ = "0.1.0"
