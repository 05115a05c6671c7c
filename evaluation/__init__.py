"""VOST J / J_tr and DAVIS J&F evaluation of palette-PNG results (numpy, Pillow and OpenCV only).

Typical use::

    from evaluation import EvaluationOptions, run
    report, reused = run("results/", "datasets/VOST", EvaluationOptions(subset="val", workers=4))
    print(report.metrics["J-Mean"], report.metrics["J_last-Mean"])

or from the shell: ``python -m evaluation --results_path R --dataset_path D``.
"""
from evaluation.errors import (
    DatasetError,
    EvaluationError,
    MissingPredictionError,
    MissingSequenceError,
    NotPaletteError,
    PredictionSizeError,
)
from evaluation.metrics import Statistics, boundary_f, jaccard, statistics
from evaluation.report import ObjectScore, Report, Table
from evaluation.runner import EvaluationOptions, evaluate, run

__all__ = [
    "DatasetError",
    "EvaluationError",
    "EvaluationOptions",
    "MissingPredictionError",
    "MissingSequenceError",
    "NotPaletteError",
    "ObjectScore",
    "PredictionSizeError",
    "Report",
    "Statistics",
    "Table",
    "boundary_f",
    "evaluate",
    "jaccard",
    "run",
    "statistics",
]
