"""Per-object statistics, the global and per-sequence tables, and their CSV files.

The CSVs match the official evaluators byte for byte: header line, values ``%.3f``, NaN as an empty
field, no index column, ``\\n`` line ends, rows in list order (``docs/metrics.md``). Both files are
written to temporary files first and then moved into place.
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import signal
import tempfile
from dataclasses import dataclass
from typing import Iterator, Literal, Optional, Sequence, Union

import numpy as np

from evaluation.errors import PathLike
from evaluation.metrics import Statistics, statistics, tail_start
from evaluation.sequence import SequenceScores

Metric = Literal["j", "jf", "lvos"]
Cell = Union[str, float]

GLOBAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "j": ("J-Mean", "J-Recall", "J-Decay", "J_last-Mean", "J_last-Recall", "J_last-Decay"),
    "jf": ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"),
    "lvos": ("J&F-Mean", "J-Mean", "J-seen-Mean", "J-unseen-Mean", "F-Mean", "F-seen-Mean", "F-unseen-Mean",
             "V-Mean", "V-seen-Mean", "V-unseen-Mean"),
}
PER_SEQUENCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "j": ("Sequence", "J-Mean", "J_last-Mean"),
    "jf": ("Sequence", "J-Mean", "F-Mean"),
    "lvos": ("Sequence", "J-Mean", "F-Mean", "V-Mean"),
}


@dataclass(frozen=True)
class ObjectScore:
    """Statistics of one object (``<sequence>_<k>``).

    Attributes:
        key: ``<sequence>_<k>``.
        sequence: sequence name.
        object_id: k (1-based).
        frames: ids of the scored frames.
        per_frame_j: J of each scored frame.
        j: statistics of J over all scored frames.
        j_last: statistics of J over the J_tr window [floor(0.75 n):].
        f: statistics of the boundary F (``jf`` metric only).
    """

    key: str
    sequence: str
    object_id: int
    frames: tuple[str, ...]
    per_frame_j: np.ndarray
    j: Statistics
    j_last: Statistics
    f: Optional[Statistics] = None


@dataclass(frozen=True)
class Table:
    """A small table: column names and rows of strings (names) and floats (values)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def to_csv(self) -> str:
        """CSV text: floats as ``%.3f``, NaN as an empty field, minimal quoting, ``\\n`` line ends."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_csv_cell(cell) for cell in row])
        return buffer.getvalue()

    def to_text(self) -> str:
        """Right-aligned plain-text rendering for the console."""
        cells = [list(self.columns)] + [[_text_cell(cell) for cell in row] for row in self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(self.columns))]
        return "\n".join(" ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in cells)

    @classmethod
    def from_csv(cls, path: PathLike) -> "Table":
        """Read a table written by :meth:`to_csv` (empty fields become NaN, numbers floats)."""
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
        if not lines:
            raise ValueError(f"{path} is empty: expected a header line")
        header, body = lines[0], lines[1:]
        return cls(tuple(header), tuple(tuple(_parse_cell(cell) for cell in line) for line in body))


@dataclass(frozen=True)
class Report:
    """Result of an evaluation: the two tables and, when computed here, the per-object scores."""

    global_table: Table
    per_sequence_table: Table
    objects: tuple[ObjectScore, ...] = ()

    @property
    def metrics(self) -> dict[str, float]:
        """The global row as ``{column: value}``."""
        return {k: float(v) for k, v in zip(self.global_table.columns, self.global_table.rows[0])}

    def to_text(self, subset: str) -> str:
        """Both tables as printed by the CLIs (the official evaluator's layout)."""
        return (f"--------------------------- Global results for {subset} ---------------------------\n"
                f"{self.global_table.to_text()}\n"
                f"\n---------- Per sequence results for {subset} ----------\n"
                f"{self.per_sequence_table.to_text()}\n")


def _csv_cell(cell: Cell) -> str:
    if isinstance(cell, str):
        return cell
    return "" if math.isnan(cell) else "%.3f" % cell


def _text_cell(cell: Cell) -> str:
    if isinstance(cell, str):
        return cell
    return "NaN" if math.isnan(cell) else "%.3f" % cell


def _parse_cell(cell: str) -> Cell:
    if cell == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return cell


def object_scores(scores: SequenceScores) -> list[ObjectScore]:
    """Per-object statistics of one scored sequence (J, J_tr window, and F when present)."""
    start = tail_start(len(scores.frames))
    objects = []
    for index in range(scores.num_objects):
        per_frame = scores.jaccard[index]
        objects.append(
            ObjectScore(
                key=f"{scores.name}_{index + 1}",
                sequence=scores.name,
                object_id=index + 1,
                frames=scores.frames,
                per_frame_j=per_frame,
                j=statistics(per_frame),
                j_last=statistics(per_frame[start:]),
                f=None if scores.boundary is None else statistics(scores.boundary[index]),
            )
        )
    return objects


def _mean(values: Sequence[float]) -> float:
    # A plain (NaN-propagating) mean over objects, computed like the reference (np.mean of a list).
    if not values:
        return math.nan
    return float(np.mean(np.asarray(values, dtype=np.float64)))


def build_report(objects: Sequence[ObjectScore], metric: Metric) -> Report:
    """Global and per-sequence tables of a list of objects (in enumeration order).

    Global values are plain means over all objects (not over sequences); one per-sequence row per object.
    """
    j_mean = _mean([o.j.mean for o in objects])
    if metric == "jf":
        f_stats = [o.f for o in objects if o.f is not None]
        f_mean = _mean([s.mean for s in f_stats])
        global_row: tuple[float, ...] = (
            (j_mean + f_mean) / 2.0,
            j_mean,
            _mean([o.j.recall for o in objects]),
            _mean([o.j.decay for o in objects]),
            f_mean,
            _mean([s.recall for s in f_stats]),
            _mean([s.decay for s in f_stats]),
        )
        second = [o.f.mean if o.f is not None else math.nan for o in objects]
    else:
        global_row = (
            j_mean,
            _mean([o.j.recall for o in objects]),
            _mean([o.j.decay for o in objects]),
            _mean([o.j_last.mean for o in objects]),
            _mean([o.j_last.recall for o in objects]),
            _mean([o.j_last.decay for o in objects]),
        )
        second = [o.j_last.mean for o in objects]
    rows = tuple((o.key, o.j.mean, value) for o, value in zip(objects, second))
    return Report(
        global_table=Table(GLOBAL_COLUMNS[metric], (global_row,)),
        per_sequence_table=Table(PER_SEQUENCE_COLUMNS[metric], rows),
        objects=tuple(objects),
    )


def csv_paths(results_path: PathLike, subset: str) -> tuple[str, str]:
    """Paths of ``global_results-<set>.csv`` and ``per-sequence_results-<set>.csv``."""
    root = os.fspath(results_path)
    return (
        os.path.join(root, f"global_results-{subset}.csv"),
        os.path.join(root, f"per-sequence_results-{subset}.csv"),
    )


def read_report(results_path: PathLike, subset: str, metric: Metric) -> Optional[Report]:
    """Load precomputed CSVs, or None when either is missing or has another metric's columns."""
    global_path, per_sequence_path = csv_paths(results_path, subset)
    if not (os.path.isfile(global_path) and os.path.isfile(per_sequence_path)):
        return None
    try:
        global_table = Table.from_csv(global_path)
        per_sequence = Table.from_csv(per_sequence_path)
    except (OSError, ValueError, csv.Error):
        return None
    expected = (GLOBAL_COLUMNS[metric], PER_SEQUENCE_COLUMNS[metric])
    if len(global_table.rows) != 1 or (global_table.columns, per_sequence.columns) != expected:
        return None
    return Report(global_table, per_sequence)


def _file_mode() -> int:
    # mkstemp creates 0600 files; give the CSVs the mode a plain open() would (0666 minus the umask).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_temp(folder: str, name: str, text: str) -> str:
    handle, temp_path = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        os.unlink(temp_path)
        raise
    return temp_path


def write_report(report: Report, results_path: PathLike, subset: str) -> tuple[str, str]:
    """Write both CSVs atomically (both temporary files complete before either is moved in place).

    Returns:
        The paths of the global and the per-sequence CSV.
    """
    targets = csv_paths(results_path, subset)
    texts = (report.global_table.to_csv(), report.per_sequence_table.to_csv())
    temps: list[str] = []
    try:
        for target, text in zip(targets, texts):
            temps.append(_write_temp(os.path.dirname(target), os.path.basename(target), text))
    except BaseException:
        for temp in temps:
            os.unlink(temp)
        raise
    mode = _file_mode()
    with _signals_deferred():  # a Ctrl-C between the two renames would pair a new table with an old one
        for temp, target in zip(reversed(temps), reversed(targets)):
            os.chmod(temp, mode)
            os.replace(temp, target)
    return targets


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (delivered on exit) where the platform can; otherwise do nothing."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
