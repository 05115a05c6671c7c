"""Summarise the quickstart demo: one table over memory policies (J, J_tr, largest bank, ms per frame, peak memory)
and, for one sequence, J over time of every policy above each policy's memory timeline, on one x axis.

Usage::

    python scripts/demo_report.py --results unbounded=DIR fifo=DIR rmem=DIR emfs=DIR [--split val]
        [--sequence NAME] [--figure PATH]

Each DIR is a results folder of ``python -m aot_plus.eval ... --plots`` (it holds ``global_results-<split>.csv``,
``run_stats.json``, ``plots/<seq>_memory.json`` and ``plots/<seq>_J.json``). The table goes to stdout; the figure
(default ``<first DIR>/../memory_policies.png``) is drawn for one sequence (default: the first, by name, with
results in every run).
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Optional, Sequence

from aot_plus.inference.plots import plots_dir, read_j_series, read_timeline
from aot_plus.inference.stats import read_run_stats
from aot_plus.viz.plots import plot_sequence_timeline
from evaluation.metrics import tail_start
from evaluation.report import read_report

log = logging.getLogger("demo_report")


def _parse_results(items: Sequence[str]) -> dict[str, Path]:
    runs: dict[str, Path] = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise ValueError(f"--results entry {item!r}: expected POLICY=DIR")
        runs[name] = Path(folder)
    return runs


Row = tuple[str, float, float, int, float, float]


def policy_table(runs: dict[str, Path], split: str) -> list[Row]:
    """Rows (policy, J, J_tr, most frames in the bank over all sequences, ms per frame, peak memory in MiB; NaN
    where a run wrote no ``run_stats.json``) of the runs' results folders."""
    rows = []
    for name, folder in runs.items():
        report = read_report(folder, split, "j")
        if report is None:
            raise ValueError(f"{folder}: no VOST (J) results for split {split!r}; expected global_results-{split}.csv")
        metrics = report.metrics
        peak = 0
        for path in sorted(plots_dir(folder).glob("*_memory.json")):
            peak = max([peak] + [len(kept) for kept in read_timeline(path)[1]])
        stats = read_run_stats(folder) or {}
        ms = stats.get("ms_per_frame")
        memory = stats.get("peak_bytes")
        rows.append((name, metrics["J-Mean"], metrics["J_last-Mean"], peak, math.nan if ms is None else float(ms),
                     math.nan if not memory else memory / float(1 << 20)))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width text table (J and J_tr in percent)."""
    lines = [f"{'policy':<10} {'J':>6} {'J_tr':>6} {'max bank':>9} {'ms/frame':>9} {'peak MiB':>9}"]
    lines += [f"{name:<10} {100 * j:6.1f} {100 * j_tr:6.1f} {peak:9d} {ms:9.1f} {mib:9.0f}"
              for name, j, j_tr, peak, ms, mib in rows]
    return "\n".join(lines)


def _mean_over_objects(series: dict[str, tuple[list[int], list[float]]]) -> tuple[list[int], list[float]]:
    index = next(iter(series.values()))[0]
    values = [[v for v in column if not math.isnan(v)] for column in zip(*(vals for _, vals in series.values()))]
    return index, [sum(v) / len(v) if v else math.nan for v in values]


def compare_timelines(runs: dict[str, Path], figure: Path, sequence: Optional[str] = None) -> tuple[str, Path]:
    """Draw, for one sequence, J over time of every run (mean over its objects) above each run's memory timeline,
    on the processed-frame axis, into ``figure``; returns (sequence, path)."""
    if sequence is None:
        common = set.intersection(*({p.name[:-len("_J.json")] for p in plots_dir(folder).glob("*_J.json")}
                                    for folder in runs.values()))
        if not common:
            raise ValueError("no sequence has a J series and a memory timeline in every run (did the evaluations "
                             "use --plots?)")
        sequence = sorted(common)[0]
    j_series = {name: _mean_over_objects(read_j_series(plots_dir(folder) / f"{sequence}_J.json"))
                for name, folder in runs.items()}
    banks = {name: read_timeline(plots_dir(folder) / f"{sequence}_memory.json")[1] for name, folder in runs.items()}
    index = next(iter(j_series.values()))[0]
    tail_from = index[tail_start(len(index))] if index else None
    return sequence, plot_sequence_timeline(j_series, banks, figure, tail_from=tail_from,
                                            title=f"{sequence}: mean J over objects and long-term memory per policy")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", nargs="+", required=True, help="POLICY=DIR results folders, in table order")
    parser.add_argument("--split", default="val")
    parser.add_argument("--sequence", help="sequence of the combined memory figure")
    parser.add_argument("--figure", type=Path, help="combined memory-timeline PNG")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        runs = _parse_results(args.results)
        rows = policy_table(runs, args.split)
        figure = args.figure or next(iter(runs.values())).parent / "memory_policies.png"
        sequence, figure = compare_timelines(runs, figure, args.sequence)
    except ValueError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    sys.stdout.write(f"---------- VOST metrics on the synthetic {args.split} split (J, J_tr in percent) ----------\n")
    sys.stdout.write(format_table(rows) + "\n")
    sys.stdout.write("\nPlots:\n")
    for name, folder in runs.items():
        sys.stdout.write(f"  {name:<10} {plots_dir(folder)}/<seq>_J.png (J above the bank), <seq>_memory.png\n")
    sys.stdout.write(f"  all policies, {sequence}: {figure}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
