"""Evaluation of a results folder: planning, parallel scoring over sequences, CSV reuse and writing."""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Optional

import cv2

from evaluation.dataset import Layout, annotation_frames, read_sequence_list, resolve_layout
from evaluation.errors import DatasetError, PathLike
from evaluation.lvos import build_lvos_report, evaluate_lvos_sequence, locate_lvos, plan_lvos, resolve_unseen
from evaluation.metrics import BOUNDARY_THRESHOLD
from evaluation.report import Metric, Report, build_report, object_scores, read_report, write_report
from evaluation.sequence import SequenceScores, SequenceTask, evaluate_sequence

logger = logging.getLogger(__name__)

#: Called once with (0, total, None) before scoring, then with (done, total, name) after each sequence.
ProgressCallback = Callable[[int, int, Optional[str]], None]


@dataclass(frozen=True)
class EvaluationOptions:
    """How to evaluate a results folder.

    Attributes:
        subset: split name; reads ``ImageSets/<subset>.txt`` and names the CSVs ``*-<subset>.csv``.
        metric: ``j`` (VOST: J and J_tr, written as J_last), ``jf`` (DAVIS: J, boundary F, J&F) or ``lvos``
            (LVOS: J, F, J&F and V, seen / unseen; see :mod:`evaluation.lvos`).
        layout: dataset layout, ``auto``, ``vost`` or ``davis`` (see :mod:`evaluation.dataset`; not ``lvos``).
        resolution: DAVIS resolution folder (``davis`` layout only).
        workers: number of processes scoring sequences in parallel (1 = in this process).
        bound_th: boundary tolerance of F, a fraction of the diagonal (pixels when >= 1).
        unseen_list: ``lvos`` only: the file naming the unseen videos (default: ``unseen_videos.txt`` in the
            split folder when present, else none).
    """

    subset: str = "val"
    metric: Metric = "j"
    layout: Layout = "auto"
    resolution: str = "480p"
    workers: int = 1
    bound_th: float = BOUNDARY_THRESHOLD
    unseen_list: Optional[str] = None


def plan_sequences(results_path: PathLike, dataset_path: PathLike, options: EvaluationOptions) -> list[SequenceTask]:
    """List the sequences to score, checking up front that every annotation folder and prediction exists.

    Raises:
        ValueError: an unknown metric or layout name.
        EvaluationError: a missing list file or annotation folder, a listed sequence that is absent, a
            sequence with fewer than three annotated frames, or a missing prediction PNG.
    """
    if options.metric not in ("j", "jf"):
        raise ValueError(f"unknown metric '{options.metric}': expected 'j' or 'jf' (LVOS: see plan_lvos)")
    paths = resolve_layout(dataset_path, options.subset, options.layout, options.resolution)
    tasks = []
    for name in read_sequence_list(paths.list_file):
        task = SequenceTask(
            name=name,
            annotations=tuple(annotation_frames(paths, name)),
            results_dir=os.path.join(os.fspath(results_path), name),
            boundary=options.metric == "jf",
            bound_th=options.bound_th,
        )
        task.check()
        tasks.append(task)
    return tasks


#: Scores one task in a worker: a module-level function (picklable) of the task.
Scorer = Callable[[Any], Any]


def _score_serial(tasks: list[Any], progress: Optional[ProgressCallback], scorer: Scorer) -> list[Any]:
    scores = []
    for task in tasks:
        scores.append(scorer(task))
        if progress is not None:
            progress(len(scores), len(tasks), task.name)
    return scores


def _init_worker() -> None:
    # One process per core already: OpenCV's own threads would only compete with the other workers.
    cv2.setNumThreads(1)
    # Ctrl-C reaches the whole process group: only the main process answers it (it stops the workers), so the
    # terminal shows one line instead of a traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignore_sigint() -> Any:
    """Ignore SIGINT in this process (main thread only); returns what :func:`_restore_sigint` puts back."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_sigint(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now (an interrupt): their sequences are dropped, and nothing of theirs was written.

    ``ProcessPoolExecutor`` (before Python 3.14's ``terminate_workers``) has no public way to stop running jobs;
    without this, ``shutdown`` would wait for every running sequence to finish.
    """
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.terminate()


def _score_parallel(tasks: list[Any], workers: int, progress: Optional[ProgressCallback], scorer: Scorer) -> list[Any]:
    results: list[Optional[Any]] = [None] * len(tasks)
    # Longest sequences first so that no worker is left with a long one at the end.
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].annotations))
    # Fresh interpreters, not fork: a forked child of a process that already runs OpenCV/OpenMP thread pools
    # (any caller that imported torch, the test runner included) can deadlock on a lock held by a lost thread.
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        pending: dict[Future[Any], int] = {}
        # The workers start while the jobs are submitted; they inherit an ignored SIGINT, so a Ctrl-C while one
        # is still importing does not print its traceback (the main process's handler is back right after).
        previous = _ignore_sigint()
        try:
            for i in order:
                pending[pool.submit(scorer, tasks[i])] = i
        finally:
            _restore_sigint(previous)
        while pending:
            done, _ = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                index = pending.pop(future)
                results[index] = future.result()
                if progress is not None:
                    progress(sum(r is not None for r in results), len(tasks), tasks[index].name)
    except KeyboardInterrupt:
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]


def score_sequences(
    tasks: list[Any], workers: int = 1, progress: Optional[ProgressCallback] = None,
    scorer: Scorer = evaluate_sequence,
) -> list[Any]:
    """Score sequences (``scorer`` of each task), in worker processes when ``workers`` > 1; task order kept."""
    if progress is not None:
        progress(0, len(tasks), None)
    workers = max(1, min(workers, len(tasks)))
    if workers == 1:
        return _score_serial(tasks, progress, scorer)
    return _score_parallel(tasks, workers, progress, scorer)


def _log_ignored_ids(scores: list[SequenceScores]) -> None:
    for seq in scores:
        if seq.ignored_ids:
            logger.warning(
                "%s: predicted ids %s exceed the %d annotated object(s) and are scored as background",
                seq.name,
                ", ".join(map(str, seq.ignored_ids)),
                seq.num_objects,
            )


def evaluate(
    results_path: PathLike,
    dataset_path: PathLike,
    options: EvaluationOptions = EvaluationOptions(),
    progress: Optional[ProgressCallback] = None,
) -> Report:
    """Score a results folder against a dataset (nothing is written).

    Args:
        results_path: folder with one sub-folder of palette PNGs per sequence.
        dataset_path: dataset root (VOST or DAVIS layout; for ``lvos`` the split folder or its parent).
        options: see :class:`EvaluationOptions`.
        progress: optional progress callback (see :data:`ProgressCallback`).

    Returns:
        The :class:`Report` with both tables and the per-object scores.

    Raises:
        EvaluationError: bad input; the message names the file and what was expected.
    """
    if options.metric == "lvos":
        split_dir, _ = locate_lvos(dataset_path, options.subset)
        unseen = resolve_unseen(split_dir, options.unseen_list)
        lvos_tasks = plan_lvos(results_path, dataset_path, options.subset, options.bound_th)
        return build_lvos_report(score_sequences(lvos_tasks, options.workers, progress, evaluate_lvos_sequence),
                                 unseen)
    tasks = plan_sequences(results_path, dataset_path, options)
    scores = score_sequences(tasks, options.workers, progress)
    _log_ignored_ids(scores)
    objects = [obj for seq in scores for obj in object_scores(seq)]
    return build_report(objects, options.metric)


def run(
    results_path: PathLike,
    dataset_path: PathLike,
    options: EvaluationOptions = EvaluationOptions(),
    recompute: bool = False,
    progress: Optional[ProgressCallback] = None,
) -> tuple[Report, bool]:
    """Reuse the CSVs in ``results_path`` when both exist (unless ``recompute``), else evaluate and write them.

    Returns:
        The report and whether it was read from existing CSVs.
    """
    if not recompute:
        existing = read_report(results_path, options.subset, options.metric)
        if existing is not None:
            logger.info("Using precomputed results in %s (pass --re to recompute)", os.fspath(results_path))
            return existing, True
    if not os.path.isdir(results_path):
        raise DatasetError(f"results folder {os.fspath(results_path)} does not exist: expected one folder per sequence")
    logger.info("Evaluating sequences ...")
    report = evaluate(results_path, dataset_path, options, progress)
    global_path, per_sequence_path = write_report(report, results_path, options.subset)
    logger.info("Global results saved in %s", global_path)
    logger.info("Per-sequence results saved in %s", per_sequence_path)
    return report, False
