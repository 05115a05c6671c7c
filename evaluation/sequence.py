"""Scoring of one sequence, streamed frame by frame (the unit of work of a worker process).

Only one annotation and one prediction are held in memory at a time; the result is the (K, n) matrix
of per-frame scores, where K is the largest id of the first annotated frame (void removed) and n the
number of annotated frames minus the first and the last (``docs/metrics.md``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from evaluation.dataset import decode_indices, frame_name, open_index_png
from evaluation.errors import DatasetError, MissingPredictionError, PredictionSizeError
from evaluation.metrics import (
    BOUNDARY_THRESHOLD,
    boundary_f,
    boundary_radius,
    confusion_counts,
    disk,
    jaccard_from_confusion,
)

#: Ground-truth value of void pixels (scored as background).
VOID_LABEL = 255
#: Fewest annotated frames a sequence may have (the first and the last are never scored).
MIN_ANNOTATED_FRAMES = 3


@dataclass(frozen=True)
class SequenceTask:
    """Everything a worker needs to score one sequence (picklable).

    Attributes:
        name: sequence name.
        annotations: sorted paths of all its annotation PNGs (first and last included).
        results_dir: folder of its prediction PNGs (``<results>/<name>``).
        boundary: also compute the boundary F measure.
        bound_th: boundary tolerance (see :func:`evaluation.metrics.boundary_radius`).
    """

    name: str
    annotations: tuple[str, ...]
    results_dir: str
    boundary: bool = False
    bound_th: float = BOUNDARY_THRESHOLD

    @property
    def scored_annotations(self) -> tuple[str, ...]:
        """Annotation paths of the scored frames (all but the first and the last)."""
        return self.annotations[1:-1]

    def prediction_path(self, annotation: str) -> str:
        """Prediction PNG matching an annotation path."""
        return os.path.join(self.results_dir, f"{frame_name(annotation)}.png")

    def check(self) -> None:
        """Fail fast on a too-short sequence or a missing prediction file (cheap: no decoding).

        Raises:
            DatasetError: fewer than three annotated frames.
            MissingPredictionError: a scored frame has no prediction file.
        """
        if len(self.annotations) < MIN_ANNOTATED_FRAMES:
            raise DatasetError(
                f"sequence '{self.name}' has {len(self.annotations)} annotated frame(s) in "
                f"{os.path.dirname(self.annotations[0])}: expected at least {MIN_ANNOTATED_FRAMES} "
                "(the first and the last are never scored)"
            )
        for annotation in self.scored_annotations:
            path = self.prediction_path(annotation)
            if not os.path.isfile(path):
                raise MissingPredictionError.for_file(path, self.name, frame_name(annotation))


@dataclass(frozen=True)
class SequenceScores:
    """Per-frame scores of one sequence.

    Attributes:
        name: sequence name.
        frames: ids of the n scored frames.
        jaccard: float64 (K, n) region similarity per object and frame.
        boundary: float64 (K, n) boundary F, or None when not requested.
        ignored_ids: predicted ids above K that were seen (scored as background).
    """

    name: str
    frames: tuple[str, ...]
    jaccard: np.ndarray
    boundary: Optional[np.ndarray] = None
    ignored_ids: tuple[int, ...] = field(default=())

    @property
    def num_objects(self) -> int:
        """K, the number of scored objects."""
        return int(self.jaccard.shape[0])


def _read_annotation(path: str, expected_size: Optional[tuple[int, int]], first: str) -> np.ndarray:
    image = open_index_png(path)
    if expected_size is not None and image.size != expected_size:
        image.close()
        raise DatasetError(
            f"annotation {path} is {image.size[0]}x{image.size[1]} (WxH) but the first annotation {first} is "
            f"{expected_size[0]}x{expected_size[1]}: expected every annotation of a sequence to have one size"
        )
    return decode_indices(image, path)


def _read_prediction(task: SequenceTask, annotation: str, size: tuple[int, int]) -> np.ndarray:
    path = task.prediction_path(annotation)
    try:
        image = open_index_png(path)
    except FileNotFoundError:
        raise MissingPredictionError.for_file(path, task.name, frame_name(annotation)) from None
    if image.size != size:
        image.close()
        raise PredictionSizeError.for_file(path, image.size, size, annotation)
    return decode_indices(image, path)


def _boundary_scores(gt: np.ndarray, pred: np.ndarray, num_objects: int, kernel: np.ndarray) -> np.ndarray:
    gt = np.where(gt == VOID_LABEL, 0, gt)
    return np.array(
        [boundary_f(gt == obj, pred == obj, kernel=kernel) for obj in range(1, num_objects + 1)],
        dtype=np.float64,
    )


def evaluate_sequence(task: SequenceTask) -> SequenceScores:
    """Score one sequence, reading one annotation/prediction pair at a time.

    Args:
        task: the sequence to score.

    Returns:
        Its :class:`SequenceScores`.

    Raises:
        EvaluationError: a missing, non-palette, corrupt or wrongly sized PNG (see :mod:`evaluation.errors`).
    """
    task.check()
    first_path = task.annotations[0]
    first = open_index_png(first_path)
    size = first.size
    first_labels = decode_indices(first, first_path)
    num_objects = int(np.where(first_labels == VOID_LABEL, 0, first_labels).max())
    del first_labels

    scored = task.scored_annotations
    jaccard = np.zeros((num_objects, len(scored)), dtype=np.float64)
    boundary = np.zeros_like(jaccard) if task.boundary else None
    kernel = disk(boundary_radius((size[1], size[0]), task.bound_th)) if task.boundary else None
    seen = np.zeros(256, dtype=bool)
    for t, annotation in enumerate(scored):
        gt = _read_annotation(annotation, size, first_path)
        pred = _read_prediction(task, annotation, size)
        counts = confusion_counts(gt, pred)
        seen |= counts.any(axis=0)
        jaccard[:, t] = jaccard_from_confusion(counts, num_objects)
        if boundary is not None and kernel is not None:
            boundary[:, t] = _boundary_scores(gt, pred, num_objects, kernel)
    ignored = tuple(int(i) for i in np.flatnonzero(seen) if i > num_objects)
    return SequenceScores(
        name=task.name,
        frames=tuple(frame_name(path) for path in scored),
        jaccard=jaccard,
        boundary=boundary,
        ignored_ids=ignored,
    )
