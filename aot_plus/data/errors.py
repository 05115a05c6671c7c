"""The one exception every data reader raises for bad input."""
from __future__ import annotations


class DatasetError(ValueError):
    """A dataset file or folder is missing, unreadable or inconsistent; the message names the file."""
