"""Per-frame scores (region J, boundary F) and per-object statistics (mean, recall, decay).

The rules are those of the official VOST evaluator (``TRI-ML/VOST/evaluation``, ``docs/metrics.md``), which
shares its metric code with the DAVIS 2017 toolkit:

* void (255) in the ground truth is plain background and is *not* excluded from the union;
* a frame whose union is empty scores J = 1;
* recall counts J > 0.5 strictly;
* the decay bins come from edges cast to ``uint8`` (so they wrap modulo 256), and a bin's end is that
  wrapped edge plus one, again in ``uint8`` (an edge of 255 ends the bin at 0: the bin is empty).
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import cv2
import numpy as np

#: Boundary tolerance of the DAVIS F measure, as a fraction of the image diagonal.
BOUNDARY_THRESHOLD = 0.008
#: Number of decay bins (the first and the last are compared).
DECAY_BINS = 4
#: Fraction of the scored frames that precedes the J_tr ("J_last") window.
TAIL_FRACTION = 0.75
_UINT8_WRAP = 256
_LABELS = 256
_EXACT_FLOAT32_COUNT = 2**24


class Statistics(NamedTuple):
    """Mean, recall (fraction above 0.5) and decay of a vector of per-frame scores."""

    mean: float
    recall: float
    decay: float


def confusion_counts(annotation: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """Joint histogram of two index maps.

    Args:
        annotation: uint8 index map (H, W) of the ground truth, void (255) kept as is.
        prediction: uint8 index map (H, W) of the prediction.

    Returns:
        int64 array (256, 256): entry [g, p] counts the pixels with annotation g and prediction p.
    """
    if annotation.size < _EXACT_FLOAT32_COUNT:
        # OpenCV's 2-D histogram is several times faster than np.bincount; its float32 counts are exact
        # integers below 2**24 pixels.
        hist = cv2.calcHist([annotation, prediction], [0, 1], None, [_LABELS, _LABELS], [0, _LABELS, 0, _LABELS])
        return hist.astype(np.int64)
    joint = annotation.astype(np.intp) * _LABELS + prediction
    return np.bincount(joint.ravel(), minlength=_LABELS * _LABELS).reshape(_LABELS, _LABELS)


def jaccard_from_confusion(counts: np.ndarray, num_objects: int) -> np.ndarray:
    """Region similarity J of objects 1..K from a joint histogram (void counts as background).

    Args:
        counts: (256, 256) joint histogram from :func:`confusion_counts`.
        num_objects: K; ids above K in the prediction are ignored (background for every object).

    Returns:
        float64 array (K,) of J = |P ∩ G| / |P ∪ G|, 1 where the union is empty.
    """
    return jaccard_of_ids(counts, np.arange(1, num_objects + 1))


def jaccard_of_ids(counts: np.ndarray, ids: "np.ndarray | Sequence[int]") -> np.ndarray:
    """Region similarity J of the given ids (each against every other value) from a joint histogram.

    Args:
        counts: (256, 256) joint histogram from :func:`confusion_counts`.
        ids: object ids 0..255; every other value, void included, is background for each of them.

    Returns:
        float64 array (len(ids),) of J = |P ∩ G| / |P ∪ G|, 1 where the union is empty.
    """
    ids = np.asarray(ids, dtype=np.intp)
    inter = counts[ids, ids]
    union = counts[ids, :].sum(axis=1) + counts[:, ids].sum(axis=0) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = inter / union
    scores[union == 0] = 1.0
    return scores


def jaccard(annotation: np.ndarray, prediction: np.ndarray) -> float:
    """Region similarity of two binary masks: |P ∩ G| / |P ∪ G|, 1 when both are empty."""
    gt = annotation.astype(bool)
    pred = prediction.astype(bool)
    union = int(np.count_nonzero(gt | pred))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(gt & pred)) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel boundary of a binary mask (the DAVIS ``seg2bmap`` rule).

    A pixel is on the boundary when it differs from its east, south or south-east neighbour, the
    image being extended by repeating its last row and column (so the bottom row only compares
    eastwards, the right column only southwards, and the bottom-right pixel never is a boundary).

    Args:
        mask: (H, W) array, non-zero = foreground.

    Returns:
        bool array (H, W).
    """
    padded = np.pad(mask.astype(bool), ((0, 1), (0, 1)), mode="edge")
    centre = padded[:-1, :-1]
    return (centre != padded[:-1, 1:]) | (centre != padded[1:, :-1]) | (centre != padded[1:, 1:])


def disk(radius: float) -> np.ndarray:
    """Disk structuring element: uint8 (2r+1, 2r+1) array of the offsets with x² + y² <= r²."""
    offsets = np.arange(-radius, radius + 1)
    xs, ys = np.meshgrid(offsets, offsets)
    return (xs**2 + ys**2 <= radius**2).astype(np.uint8)


def boundary_radius(shape: tuple[int, int], bound_th: float = BOUNDARY_THRESHOLD) -> float:
    """Dilation radius in pixels: ``bound_th`` itself when >= 1, else ceil(bound_th · diagonal)."""
    if bound_th >= 1:
        return bound_th
    height, width = shape
    return math.ceil(bound_th * math.sqrt(float(height * height + width * width)))


def boundary_f(
    annotation: np.ndarray,
    prediction: np.ndarray,
    bound_th: float = BOUNDARY_THRESHOLD,
    kernel: np.ndarray | None = None,
) -> float:
    """Boundary F measure of two binary masks, as in the DAVIS toolkit.

    Boundaries are matched when they lie within a disk of radius :func:`boundary_radius` of the
    other mask's boundary. An empty boundary on one side gives precision (prediction empty) or recall
    (annotation empty) 1 and the other 0; both empty give F = 1.

    Args:
        annotation: (H, W) ground-truth mask of one object.
        prediction: (H, W) predicted mask of the same object.
        bound_th: tolerance (fraction of the diagonal, or pixels when >= 1).
        kernel: precomputed :func:`disk` for this shape and threshold (optional).

    Returns:
        F = 2 P R / (P + R), 0 when P + R = 0.
    """
    if kernel is None:
        kernel = disk(boundary_radius(annotation.shape, bound_th))
    pred_edges = boundary_map(prediction)
    gt_edges = boundary_map(annotation)
    n_pred = int(np.count_nonzero(pred_edges))
    n_gt = int(np.count_nonzero(gt_edges))
    if n_pred == 0 or n_gt == 0:
        precision = 1.0 if n_pred == 0 else 0.0
        recall = 1.0 if n_gt == 0 else 0.0
    else:
        pred_near = cv2.dilate(pred_edges.astype(np.uint8), kernel).astype(bool)
        gt_near = cv2.dilate(gt_edges.astype(np.uint8), kernel).astype(bool)
        precision = np.count_nonzero(pred_edges & gt_near) / float(n_pred)
        recall = np.count_nonzero(gt_edges & pred_near) / float(n_gt)
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def decay_slices(length: int) -> list[slice]:
    """The four decay bins of a score vector of ``length`` frames, exactly as the official code.

    Edges e_i = round(linspace(1, m, 5) + 1e-10) - 1 are cast to uint8 (modulo 256); bin b is
    ``x[e_b : (e_(b+1) + 1) mod 256]`` (inclusive end, overlapping neighbours, possibly empty).
    """
    edges = np.round(np.linspace(1, length, DECAY_BINS + 1) + 1e-10) - 1
    wrapped = [int(edge) % _UINT8_WRAP for edge in edges]
    return [slice(wrapped[b], (wrapped[b + 1] + 1) % _UINT8_WRAP) for b in range(DECAY_BINS)]


def _mean_or_nan(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else math.nan


def statistics(values: np.ndarray) -> Statistics:
    """Mean, recall (strictly > 0.5) and decay (mean of the first bin minus mean of the last bin).

    Args:
        values: float64 vector of per-frame scores (no NaN).

    Returns:
        :class:`Statistics`; the decay is NaN when a wrapped bin is empty.
    """
    scores = np.ascontiguousarray(values, dtype=np.float64)
    bins = decay_slices(len(scores))
    decay = _mean_or_nan(scores[bins[0]]) - _mean_or_nan(scores[bins[-1]])
    return Statistics(_mean_or_nan(scores), _mean_or_nan(scores > 0.5), decay)


def tail_start(num_frames: int) -> int:
    """First index of the J_tr window: floor(0.75 n) of the n scored frames (the window is [c:n])."""
    return int(math.floor(num_frames * TAIL_FRACTION))
