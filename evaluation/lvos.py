"""LVOS J&F (v1 and v2), with the rules of the official LVOS toolkit (semi-supervised task).

The rules, as the official ``lvos-evaluation`` code applies them (see ``docs/benchmarks.md``):

* The split folder holds ``Annotations/<video>/<frame>.png`` and ``<set>_meta.json``, whose ``videos`` map each
  video to its ``objects``, and each object id to a ``frame_range`` (``start``, ``end``, ``frame_nums``).
  Videos are scored in sorted name order, objects in the file's order.
* An object is scored on the frames ``start, start + 5, ...`` below ``end`` (``end`` itself is never read),
  named ``%08d``. Of these, position 0 and position ``frame_nums - 1`` are skipped; position p (1-based) fills
  slot p - 1 of a vector of ``frame_nums - 2`` scores. Slots no frame reaches keep the score 0; a range with
  more positions than ``frame_nums`` is an error (the official code crashes on it).
* In every scored frame, object k is ``annotation == k`` against ``prediction == k``: other ids, void (255)
  included, are background. An object absent from an annotated frame therefore scores J = F = 1 when the
  prediction is empty there too, and 0 otherwise.
* J and the boundary F per frame are those of the DAVIS toolkit (:mod:`evaluation.metrics`); per object, the
  means of its slots and V = sqrt(round(sum((m - s_i)^2) / n, 4)) over the slots s_i of (J + F) / 2 with mean m
  (``numpy.round``).
* Videos named in the unseen list are "unseen", the others "seen"; each global value is the average of the
  seen and the unseen means over objects: ``J&F = ((J_seen + F_seen) + (J_unseen + F_unseen)) / 4``. Without
  any unseen video the official tool prints NaN; here the unseen list is optional and, when no video of the
  split is unseen, the global values are the means over all objects (the unseen columns stay empty).
* CSVs: ``global_results-<set>.csv`` with ``J&F-Mean, J-Mean, J-seen-Mean, J-unseen-Mean, F-Mean,
  F-seen-Mean, F-unseen-Mean, V-Mean, V-seen-Mean, V-unseen-Mean`` and ``per-sequence_results-<set>.csv`` with
  ``Sequence, J-Mean, F-Mean, V-Mean``, one row ``<video>_<n>`` per object (n = its 1-based position in the
  meta file), ``%.3f``, NaN as an empty field.
"""
from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from evaluation.dataset import decode_indices, open_index_png
from evaluation.errors import DatasetError, MissingPredictionError, PathLike, PredictionSizeError
from evaluation.metrics import (
    BOUNDARY_THRESHOLD,
    boundary_f,
    boundary_radius,
    confusion_counts,
    disk,
    jaccard_of_ids,
    statistics,
    tail_start,
)
from evaluation.report import GLOBAL_COLUMNS, PER_SEQUENCE_COLUMNS, ObjectScore, Report, Table

logger = logging.getLogger(__name__)

#: Distance between two annotated LVOS frames, in frame numbers (the 6 fps annotations of 30 fps videos).
FRAME_STEP = 5
#: Name of the unseen-video list looked for in the split folder (the official tool's CodaLab layout).
UNSEEN_LIST_NAME = "unseen_videos.txt"
#: Decimals the official tool keeps of the variance before its square root.
_VARIANCE_DECIMALS = 4


def frame_name(number: int) -> str:
    """LVOS file stem of frame ``number`` (``00000006``)."""
    return f"{number:08d}"


@dataclass(frozen=True)
class LvosObject:
    """One object of a video as the meta file describes it.

    Attributes:
        key: its key in the meta file (``"1"``); the object's id in the PNGs is ``int(key)``.
        start: number of its first annotated frame.
        end: the frame number the scored range stops before.
        frame_nums: the meta's frame count, which sizes the score vector (``frame_nums - 2`` slots).
    """

    key: str
    start: int
    end: int
    frame_nums: int

    @property
    def object_id(self) -> int:
        """The object's id in the annotation and prediction PNGs."""
        return int(self.key)

    def slots(self, video: str, meta_path: PathLike) -> list[tuple[int, str]]:
        """(slot, frame stem) of every scored frame; slots no frame reaches stay 0.

        Raises:
            DatasetError: ``frame_nums`` is below 2, or the range holds more frames than ``frame_nums``.
        """
        size = self.frame_nums - 2
        positions = range(self.start, self.end, FRAME_STEP)
        if size < 0 or len(positions) > self.frame_nums:
            raise DatasetError(
                f"{os.fspath(meta_path)}: video '{video}' object '{self.key}' has frame_nums {self.frame_nums} but "
                f"its range {self.start}..{self.end} (step {FRAME_STEP}) holds {len(positions)} frame(s): expected "
                f"frame_nums >= 2 and at least the number of frames in the range"
            )
        return [(position - 1, frame_name(number)) for position, number in enumerate(positions)
                if 0 < position < self.frame_nums - 1]


def _frame_number(value: object, where: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a frame number, got {value!r}")
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a frame number, got {value!r}") from None


def read_lvos_meta(path: PathLike) -> dict[str, tuple[LvosObject, ...]]:
    """An LVOS meta file as {video: objects}, videos sorted by name, objects in file order.

    Raises:
        DatasetError: the file is missing, not JSON, or an entry lacks ``frame_range`` values.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise DatasetError(f"LVOS meta file {path} does not exist: expected <split>_meta.json") from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"LVOS meta file {path} is not readable JSON ({exc})") from None
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict) or not videos:
        raise DatasetError(f"LVOS meta file {path}: expected {{'videos': {{video: {{'objects': ...}}}}}} with at "
                           "least one video")
    meta: dict[str, tuple[LvosObject, ...]] = {}
    for video in sorted(videos):
        where = f"LVOS meta file {path}: video '{video}'"
        objects = videos[video].get("objects") if isinstance(videos[video], dict) else None
        if not isinstance(objects, dict):
            raise DatasetError(f"{where}: expected an 'objects' mapping")
        parsed = []
        for key, info in objects.items():
            frame_range = info.get("frame_range") if isinstance(info, dict) else None
            if not isinstance(frame_range, dict):
                raise DatasetError(f"{where} object '{key}': expected a 'frame_range' with start, end, frame_nums")
            try:
                if not 0 < int(key) < 256:
                    raise ValueError(f"object id {key!r} is not an id 1..255 of a palette PNG")
                values = [_frame_number(frame_range.get(field), f"'{field}'")
                          for field in ("start", "end", "frame_nums")]
            except ValueError as exc:
                raise DatasetError(f"{where} object '{key}': {exc}") from None
            parsed.append(LvosObject(str(key), *values))
        meta[video] = tuple(parsed)
    return meta


def meta_candidates(subset: str) -> list[str]:
    """File names an LVOS split's meta file may have, in the order they are tried."""
    names = [f"{subset}_meta.json"]
    if subset == "val":
        names.append("valid_meta.json")
    names.append("meta.json")
    return names


def locate_lvos(root: PathLike, subset: str) -> tuple[str, str]:
    """(split folder, meta file) of an LVOS dataset given its root or its split folder.

    The split folder is ``root`` itself or ``root/<subset>`` (``root/valid`` for ``val``); it must hold
    ``Annotations/`` and a meta file named as :func:`meta_candidates` lists.

    Raises:
        DatasetError: no such folder holds a meta file.
    """
    root = os.fspath(root)
    folders = [root, os.path.join(root, subset)] + ([os.path.join(root, "valid")] if subset == "val" else [])
    for folder in folders:
        for name in meta_candidates(subset):
            if os.path.isfile(os.path.join(folder, name)):
                return folder, os.path.join(folder, name)
    raise DatasetError(f"no LVOS meta file ({' or '.join(meta_candidates(subset))}) in {' or '.join(folders)}: "
                       "expected the split folder holding Annotations/ and the meta JSON")


def read_unseen_list(path: PathLike) -> frozenset[str]:
    """Video names of an unseen list (one per line, stripped).

    Raises:
        DatasetError: the file does not exist.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return frozenset(line.strip() for line in handle if line.strip())
    except FileNotFoundError:
        raise DatasetError(f"unseen-video list {os.fspath(path)} does not exist: expected one video name per "
                           "line") from None


@dataclass(frozen=True)
class LvosSequenceTask:
    """Everything a worker needs to score one LVOS video (picklable).

    Attributes:
        name: video name.
        annotation_dir: folder of its annotation PNGs.
        results_dir: folder of its prediction PNGs.
        objects: its objects, in meta order.
        slots: per object, the (slot, frame stem) pairs it is scored on.
        bound_th: boundary tolerance of F.
    """

    name: str
    annotation_dir: str
    results_dir: str
    objects: tuple[LvosObject, ...]
    slots: tuple[tuple[tuple[int, str], ...], ...]
    bound_th: float = BOUNDARY_THRESHOLD

    @property
    def frames(self) -> tuple[str, ...]:
        """Stems of the frames scored for at least one object, sorted."""
        return tuple(sorted({stem for slots in self.slots for _, stem in slots}))

    @property
    def annotations(self) -> tuple[str, ...]:
        """Annotation paths of the scored frames (also the amount of work, for scheduling)."""
        return tuple(os.path.join(self.annotation_dir, f"{stem}.png") for stem in self.frames)

    def check(self) -> None:
        """Fail fast on a missing annotation or prediction of a scored frame (no decoding).

        Raises:
            DatasetError: an annotation is missing.
            MissingPredictionError: a prediction is missing.
        """
        for stem in self.frames:
            annotation = os.path.join(self.annotation_dir, f"{stem}.png")
            if not os.path.isfile(annotation):
                raise DatasetError(f"annotation {annotation} does not exist: the LVOS meta file scores frame "
                                   f"'{stem}' of video '{self.name}'")
            prediction = os.path.join(self.results_dir, f"{stem}.png")
            if not os.path.isfile(prediction):
                raise MissingPredictionError.for_file(prediction, self.name, stem)


@dataclass(frozen=True)
class LvosSequenceScores:
    """Per-slot scores of one video's objects (slots never reached are 0).

    Attributes:
        name: video name.
        frames: per object, the stem of each slot ("" where no frame reaches it).
        jaccard: per object, float64 J of each slot.
        boundary: per object, float64 boundary F of each slot.
    """

    name: str
    frames: tuple[tuple[str, ...], ...]
    jaccard: tuple[np.ndarray, ...]
    boundary: tuple[np.ndarray, ...]


def plan_lvos(results_path: PathLike, dataset_path: PathLike, subset: str,
              bound_th: float = BOUNDARY_THRESHOLD) -> list[LvosSequenceTask]:
    """One task per video of the meta file (sorted by name), checking that every scored file exists.

    Raises:
        EvaluationError: a missing meta file, annotation or prediction, or an inconsistent meta entry.
    """
    split_dir, meta_path = locate_lvos(dataset_path, subset)
    tasks = []
    for video, objects in read_lvos_meta(meta_path).items():
        task = LvosSequenceTask(
            name=video,
            annotation_dir=os.path.join(split_dir, "Annotations", video),
            results_dir=os.path.join(os.fspath(results_path), video),
            objects=objects,
            slots=tuple(tuple(obj.slots(video, meta_path)) for obj in objects),
            bound_th=bound_th,
        )
        for obj, slots in zip(objects, task.slots):
            if len(slots) < obj.frame_nums - 2:
                logger.warning("%s: video '%s' object '%s' fills %d of its %d scored slots (frame_nums %d, range "
                               "%d..%d); the others score 0 as in the official tool", meta_path, video, obj.key,
                               len(slots), obj.frame_nums - 2, obj.frame_nums, obj.start, obj.end)
        task.check()
        tasks.append(task)
    return tasks


def evaluate_lvos_sequence(task: LvosSequenceTask) -> LvosSequenceScores:
    """Score one video, reading each scored frame's annotation and prediction once.

    Raises:
        EvaluationError: a missing, non-palette, corrupt or wrongly sized PNG.
    """
    task.check()
    jaccard = [np.zeros(max(obj.frame_nums - 2, 0), dtype=np.float64) for obj in task.objects]
    boundary = [np.zeros_like(j) for j in jaccard]
    names = [[""] * len(j) for j in jaccard]
    by_frame: dict[str, list[tuple[int, int]]] = {}
    for index, slots in enumerate(task.slots):
        for slot, stem in slots:
            by_frame.setdefault(stem, []).append((index, slot))
    kernels: dict[tuple[int, int], np.ndarray] = {}
    for stem in sorted(by_frame):
        annotation = os.path.join(task.annotation_dir, f"{stem}.png")
        gt_image = open_index_png(annotation)
        size = gt_image.size
        gt = decode_indices(gt_image, annotation)
        prediction = os.path.join(task.results_dir, f"{stem}.png")
        try:
            pred_image = open_index_png(prediction)
        except FileNotFoundError:
            raise MissingPredictionError.for_file(prediction, task.name, stem) from None
        if pred_image.size != size:
            pred_image.close()
            raise PredictionSizeError.for_file(prediction, pred_image.size, size, annotation)
        pred = decode_indices(pred_image, prediction)
        counts = confusion_counts(gt, pred)
        if size not in kernels:
            kernels[size] = disk(boundary_radius((size[1], size[0]), task.bound_th))
        entries = by_frame[stem]
        scores = jaccard_of_ids(counts, [task.objects[index].object_id for index, _ in entries])
        for (index, slot), score in zip(entries, scores):
            object_id = task.objects[index].object_id
            jaccard[index][slot] = score
            boundary[index][slot] = boundary_f(gt == object_id, pred == object_id, kernel=kernels[size])
            names[index][slot] = stem
    return LvosSequenceScores(task.name, tuple(tuple(n) for n in names), tuple(jaccard), tuple(boundary))


def _nan_mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else math.nan


def variation(jaccard: np.ndarray, boundary: np.ndarray) -> float:
    """V of one object: sqrt(round(mean squared deviation of (J + F) / 2 from its mean, 4))."""
    jf = (jaccard + boundary) / 2
    if jf.size == 0:
        return math.nan
    deviation = _nan_mean(jf) - jf
    variance = np.round(np.float64(np.sum(deviation**2) / jf.size), _VARIANCE_DECIMALS)
    return math.sqrt(variance)


@dataclass(frozen=True)
class LvosObjectScore:
    """Scores of one object: its row key, J / F / V means, and whether its video is unseen."""

    key: str
    j: float
    f: float
    v: float
    unseen: bool


def lvos_object_scores(scores: LvosSequenceScores, unseen: frozenset[str]) -> list[LvosObjectScore]:
    """Per-object means of one scored video (row keys ``<video>_<n>``)."""
    return [LvosObjectScore(f"{scores.name}_{n}", _nan_mean(j), _nan_mean(f), variation(j, f), scores.name in unseen)
            for n, (j, f) in enumerate(zip(scores.jaccard, scores.boundary), start=1)]


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(np.asarray(values, dtype=np.float64))) if values else math.nan


def global_row(objects: Sequence[LvosObjectScore]) -> tuple[float, ...]:
    """The global values in the order of the ``lvos`` global columns (see the module docstring)."""
    seen = [o for o in objects if not o.unseen]
    unseen = [o for o in objects if o.unseen]
    j_seen, f_seen, v_seen = (_mean([getattr(o, k) for o in seen]) for k in "jfv")
    j_unseen, f_unseen, v_unseen = (_mean([getattr(o, k) for o in unseen]) for k in "jfv")
    if not unseen:
        return ((j_seen + f_seen) / 2.0, j_seen, j_seen, math.nan, f_seen, f_seen, math.nan, v_seen, v_seen,
                math.nan)
    return (((j_seen + f_seen) + (j_unseen + f_unseen)) / 4.0, (j_seen + j_unseen) / 2, j_seen, j_unseen,
            (f_seen + f_unseen) / 2, f_seen, f_unseen, (v_seen + v_unseen) / 2, v_seen, v_unseen)


def resolve_unseen(split_dir: PathLike, unseen_list: Optional[PathLike]) -> frozenset[str]:
    """The unseen videos: ``unseen_list`` when given, else ``<split>/unseen_videos.txt`` when present, else none."""
    if unseen_list is not None:
        return read_unseen_list(unseen_list)
    default = os.path.join(os.fspath(split_dir), UNSEEN_LIST_NAME)
    if os.path.isfile(default):
        return read_unseen_list(default)
    logger.warning("no unseen-video list (--unseen_list, or %s): every video counts as seen and the global values "
                   "are means over all objects", default)
    return frozenset()


def build_lvos_report(scores: Sequence[LvosSequenceScores], unseen: frozenset[str]) -> Report:
    """Global and per-sequence tables of scored videos (in task order), with per-object J for plots."""
    objects = [o for seq in scores for o in lvos_object_scores(seq, unseen)]
    details = []
    for seq in scores:
        for n, (frames, j, f) in enumerate(zip(seq.frames, seq.jaccard, seq.boundary), start=1):
            details.append(ObjectScore(key=f"{seq.name}_{n}", sequence=seq.name, object_id=n, frames=frames,
                                       per_frame_j=j, j=statistics(j), j_last=statistics(j[tail_start(len(j)):]),
                                       f=statistics(f)))
    rows = tuple((o.key, o.j, o.f, o.v) for o in objects)
    return Report(
        global_table=Table(GLOBAL_COLUMNS["lvos"], (global_row(objects),)),
        per_sequence_table=Table(PER_SEQUENCE_COLUMNS["lvos"], rows),
        objects=tuple(details),
    )
