"""Errors raised by the evaluator on bad input.

Every problem with the dataset or the results folder is reported as one subclass of
:class:`EvaluationError` whose message names the offending file and what was expected. The errors
are raised inside worker processes too, so each one pickles through its message alone.
"""
from __future__ import annotations

import os
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]


class EvaluationError(Exception):
    """Base class of every bad-input error of the evaluator (the CLI turns it into exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self):
        return (type(self), (self.message,))

    def __str__(self) -> str:
        return self.message


class DatasetError(EvaluationError):
    """The dataset folder does not have the expected layout (list file, annotation folder, frames)."""


class MissingSequenceError(EvaluationError):
    """A sequence listed in the ImageSets file has no annotation folder or no annotation PNG."""

    @classmethod
    def for_sequence(cls, sequence: str, folder: PathLike, list_file: PathLike) -> "MissingSequenceError":
        """Build the error for ``sequence`` listed in ``list_file`` but absent from ``folder``."""
        return cls(
            f"sequence '{sequence}' is listed in {list_file} but {folder} "
            f"{'has no .png annotation' if os.path.isdir(folder) else 'does not exist'}; "
            f"expected a folder of palette PNG annotations"
        )


class MissingPredictionError(EvaluationError):
    """A prediction PNG of a scored frame is absent from the results folder."""

    @classmethod
    def for_file(cls, path: PathLike, sequence: str, frame: str) -> "MissingPredictionError":
        """Build the error for the missing prediction ``path`` of ``frame`` of ``sequence``."""
        folder = os.path.dirname(os.fspath(path))
        hint = "" if os.path.isdir(folder) else f" (the folder {folder} does not exist)"
        return cls(
            f"missing prediction {path}{hint}: expected a palette PNG for frame '{frame}' of sequence "
            f"'{sequence}' (one per annotated frame except the first and the last)"
        )


class PredictionSizeError(EvaluationError):
    """A prediction PNG does not have the size of its ground-truth annotation."""

    @classmethod
    def for_file(
        cls, path: PathLike, got: tuple[int, int], expected: tuple[int, int], reference: PathLike
    ) -> "PredictionSizeError":
        """Build the error for ``path`` of size ``got`` (W, H) where ``reference`` has ``expected``."""
        return cls(
            f"prediction {path} is {got[0]}x{got[1]} (WxH) but its annotation {reference} is "
            f"{expected[0]}x{expected[1]}: expected a prediction of the annotation's size"
        )


class NotPaletteError(EvaluationError):
    """A PNG is unreadable or not a palette (mode 'P') image of class indices."""

    @classmethod
    def for_file(cls, path: PathLike, found: str) -> "NotPaletteError":
        """Build the error for ``path`` where ``found`` describes what was read instead."""
        return cls(f"{path} is {found}: expected a palette (mode 'P') PNG of object indices")
