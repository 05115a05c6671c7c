"""Dataset inference: every sequence of a split, sharded over torchrun ranks, resumable, then the metric.

Flow (``docs/benchmarks.md``, with the reference's quirks kept where they change results):

1. every rank lists the sequences without a finished result folder, then all ranks meet at a barrier (so no
   rank sees another's fresh results while listing) and split the list by frame count (:func:`shard`);
2. each rank loads the model once and segments its sequences with one :class:`VideoPredictor` (a sequence is
   one ``init_state``, its annotations ``add_label_map`` calls), writing PNGs through a :class:`SequenceWriter`
   (a sequence folder appears only when complete);
3. ranks exchange their timing totals; rank 0 logs the summary, runs the metric and returns its report.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import evaluation
from aot_plus.config import save_config
from aot_plus.data.build import build_eval_dataset
from aot_plus.data.sequence import EvalSequence
from aot_plus.distributed import all_gather_objects, barrier, cleanup, join_process_group
from aot_plus.inference.benchmarks import BENCHMARKS, EVALUATOR_METRICS
from aot_plus.inference.distributed import DistInfo, configure_process, dist_info_from_env, select_device, shard
from aot_plus.inference.model_loading import load_model
from aot_plus.inference.plots import plots_dir, write_j_plots, write_memory_timeline
from aot_plus.inference.predictor import VideoPredictor
from aot_plus.inference.results_folder import prepare_results_folder, results_key
from aot_plus.inference.stats import (PeakMemory, RunStats, SequenceStats, format_run, format_sequence,
                                      write_run_stats)
from aot_plus.inference.writer import ResultsLayout, SequenceWriter
from aot_plus.io.atomic import output_error

log = logging.getLogger(__name__)

DATASETS = tuple(BENCHMARKS)
#: Which metric ``eval.metric=auto`` runs per dataset (None: no public labels to score against).
AUTO_METRIC: dict[str, Optional[str]] = {name: b.auto_metric for name, b in BENCHMARKS.items()}
#: The config key holding each dataset's root folder.
ROOT_KEYS = {name: b.root_key for name, b in BENCHMARKS.items()}

#: Called on rank-local progress: ``(sequence name, frames done, frames in the sequence)``.
FrameCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EvalJob:
    """One evaluation run.

    Attributes:
        dataset: a name of :data:`aot_plus.inference.benchmarks.BENCHMARKS` (``vost``, ``davis``, ``lvos``...).
        split: split name (``val``).
        output: results folder (YouTube-VOS results go to ``<output>/Annotations``).
        checkpoint: weights file, or None to keep the initialisation (debugging only).
        sequences: only these sequences (all when empty).
        overwrite: replace results of other settings in ``output`` (see :mod:`aot_plus.inference.results_folder`).
        force_output: write into an ``output`` folder holding other files.
    """

    dataset: str
    split: str
    output: Path
    checkpoint: Optional[Path]
    sequences: tuple[str, ...] = ()
    overwrite: bool = False
    force_output: bool = False

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; expected one of {list(DATASETS)}")

    @property
    def results_root(self) -> Path:
        """Where the sequence folders go, in the layout the dataset's benchmark expects."""
        return self.output / "Annotations" if self.dataset == "youtubevos" else self.output


def dataset_root(cfg: Any, dataset: str) -> Path:
    """The configured root folder of ``dataset`` (the value at :data:`ROOT_KEYS`)."""
    node = cfg
    for part in ROOT_KEYS[dataset].split("."):
        node = getattr(node, part)
    return Path(node)


def _frames(sequence: EvalSequence):
    for index in range(len(sequence)):
        yield sequence.load_image(index)


def segment_sequence(predictor: VideoPredictor, sequence: EvalSequence, layout: ResultsLayout, cfg: Any,
                     meter: PeakMemory, on_frame: Optional[FrameCallback] = None,
                     plots: Optional[Path] = None) -> SequenceStats:
    """Segment one sequence and publish its folder of PNGs (atomically).

    Frame 0's file is a copy of the first annotation (the reference), or the binarised / resized mask written with
    the prediction palette when the dataset binarises objects or writes results at another size. With
    ``eval.output_layout=per_object`` every object gets its own folder of 0/1 PNGs instead (SA-V layout). With
    ``plots`` (a folder), the memory timeline of the sequence is written there as JSON and PNG.
    """
    meter.reset()
    predictor.init_state(_frames(sequence), num_frames=len(sequence), output_size=sequence.output_size)
    for index in sequence.label_paths:
        predictor.add_label_map(index, sequence.raw_label(index))
    stems = sequence.stems
    per_object = cfg.eval.output_layout == "per_object"
    copy_first = not sequence.binarize and sequence.output_size == sequence.size and not per_object
    frames, seconds = 0, 0.0
    timeline: list[tuple[int, ...]] = []
    try:
        with SequenceWriter(layout, sequence.name, threads=cfg.eval.writer_threads) as writer:
            for result in predictor.propagate_in_video():
                timeline.append(predictor.kept_frames)
                stem = stems[result.frame_idx]
                if result.frame_idx > 0:
                    writer.write_result(stem, result, per_object)
                    frames += 1
                    seconds += predictor.last_frame_seconds
                elif cfg.eval.write_first_frame:
                    if copy_first:
                        writer.copy(stem, sequence.first_label_path)
                    else:
                        writer.write_result(stem, result, per_object)
                if on_frame is not None:
                    on_frame(sequence.name, result.frame_idx + 1, len(sequence))
    finally:
        predictor.close()
    if plots is not None:
        write_memory_timeline(plots, sequence.name, cfg.memory.policy.name, timeline, stems)
    return SequenceStats(sequence.name, frames, seconds, meter.peak_bytes())


def resolve_metric(cfg: Any, job: EvalJob) -> Optional[str]:
    """The metric ``eval.metric`` asks for on this dataset (None: none).

    Raises:
        ValueError: a metric with ``eval.output_layout=per_object``, which the metrics cannot read.
    """
    metric = AUTO_METRIC[job.dataset] if cfg.eval.metric == "auto" else cfg.eval.metric
    metric = None if metric == "none" else metric
    if metric is not None and cfg.eval.output_layout == "per_object":
        raise ValueError(f"eval.output_layout=per_object writes one folder per object, which the {metric} metric "
                         "cannot read: set eval.metric=none (or eval.output_layout=palette)")
    return metric


def run_metric(cfg: Any, job: EvalJob) -> Optional[Any]:
    """Score the results with the metric chosen by ``eval.metric``; returns the evaluation report or None."""
    metric = resolve_metric(cfg, job)
    if metric is None:
        log.info("no metric for %s (eval.metric=%s)", job.dataset, cfg.eval.metric)
        return None
    workers = cfg.eval.metric_workers or min(os.cpu_count() or 1, 8)
    options = evaluation.EvaluationOptions(subset=job.split, metric=EVALUATOR_METRICS[metric], workers=workers,
                                           **BENCHMARKS[job.dataset].metric_options(cfg))
    try:
        report, _ = evaluation.run(job.results_root, dataset_root(cfg, job.dataset), options, recompute=True)
    except OSError as err:  # the CSVs cannot be written: one line naming the folder (disk full, read-only)
        raise output_error(job.results_root, err) from err
    return report


def _todo(names: Sequence[str], layout: ResultsLayout, cfg: Any) -> list[str]:
    if not cfg.eval.skip_finished:
        return list(names)
    done = [n for n in names if layout.is_finished(n)]
    if done:
        log.info("skipping %d finished sequence(s) found in %s", len(done), layout.root)
    return [n for n in names if n not in set(done)]


def evaluate_dataset(cfg: Any, job: EvalJob, on_frame: Optional[FrameCallback] = None,
                     info: Optional[DistInfo] = None) -> Optional[Any]:
    """Run a whole evaluation (see the module docstring).

    Args:
        cfg: the experiment config.
        job: what to evaluate and where to write.
        on_frame: optional progress callback (e.g. a tqdm bar in the CLI).
        info: the launch (default: from torchrun's environment variables).

    Returns:
        The metric report on rank 0 when a metric ran, else None.
    """
    info = info or dist_info_from_env()
    # Ranks exchange only small Python objects, so evaluation uses gloo on CPU and GPU alike.
    join_process_group(info.rank, info.world_size, "gloo", cfg.eval.dist_timeout_s)
    try:
        return _evaluate(cfg, job, info, on_frame)
    finally:
        cleanup()


def _prepare_output(cfg: Any, job: EvalJob, all_names: Sequence[str], info: DistInfo) -> bool:
    """Rank 0 claims the results folder and checks its key; every rank gets the decision (or the error)."""
    outcome: Any = None
    if info.is_main:
        root = dataset_root(cfg, job.dataset)
        key = results_key(cfg, job.checkpoint, job.dataset, root.resolve(), job.split)
        inputs = [root] + ([job.checkpoint] if job.checkpoint else [])
        try:
            outcome = prepare_results_folder(job.output, job.results_root, key, inputs, all_names, job.overwrite,
                                             job.force_output)
        except (ValueError, OSError) as err:
            outcome = err
    outcome = all_gather_objects(outcome)[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return bool(outcome)


def _evaluate(cfg: Any, job: EvalJob, info: DistInfo, on_frame: Optional[FrameCallback]) -> Optional[Any]:
    resolve_metric(cfg, job)  # a layout the metric cannot read fails before any work
    configure_process(cfg.eval.seed, cfg.eval.num_threads)
    device = select_device(cfg.eval.device, info)
    dataset = build_eval_dataset(job.dataset, cfg.data, job.split)
    names = list(dataset.names)
    if job.sequences:
        unknown = sorted(set(job.sequences) - set(names))
        if unknown:
            raise ValueError(f"sequences {unknown} are not in the {job.dataset} {job.split} list")
        names = [n for n in names if n in set(job.sequences)]
    layout = ResultsLayout(job.results_root)
    reuse = _prepare_output(cfg, job, dataset.names, info)
    todo = _todo(names, layout, cfg) if reuse else list(names)
    barrier()  # every rank has listed the finished sequences before any rank publishes new ones
    if info.is_main:
        save_config(cfg, job.output / "config.yaml")
    sequences = [dataset.sequence(name) for name in todo]
    mine = [sequences[i] for i in shard([len(s) for s in sequences], info.world_size)[info.rank]]
    log.info("rank %d/%d on %s: %d of %d sequence(s) to segment", info.rank, info.world_size, device, len(mine),
             len(todo))
    meter = PeakMemory(device)
    results: list[SequenceStats] = []
    plots = plots_dir(job.output) if cfg.eval.plots else None
    if mine:
        predictor = VideoPredictor(load_model(cfg, job.checkpoint), cfg, device)
        for position, sequence in enumerate(mine, start=1):
            stats = segment_sequence(predictor, sequence, layout, cfg, meter, on_frame, plots)
            results.append(stats)
            log.info("rank %d %s", info.rank, format_sequence(stats, position, len(mine), meter.kind))
    totals = all_gather_objects(RunStats.of(results))
    barrier()
    if not info.is_main:
        return None
    layout.remove_partial_root()
    if sum(t.sequences for t in totals):
        log.info("%s", format_run(RunStats.combine(totals), meter.kind))
        write_run_stats(job.output, RunStats.combine(totals), meter.kind)
    report = run_metric(cfg, job)
    if plots is not None and report is not None:
        write_j_plots(report, plots)
    return report
