"""Summarise the quickstart demo: one J / J_tr table over memory policies and a combined memory-timeline figure.

Usage::

    python scripts/demo_report.py --results unbounded=DIR fifo=DIR rmem=DIR emfs=DIR [--split val]
        [--sequence NAME] [--figure PATH]

Each DIR is a results folder of ``python -m aot_plus.eval ... --plots`` (it holds ``global_results-<split>.csv``
and ``plots/<seq>_memory.json``). The table goes to stdout; the figure (default ``<first DIR>/../memory_policies.png``)
draws the timelines of all policies for one sequence (default: the first with a timeline in every run).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from aot_plus.inference.plots import plots_dir, read_timeline
from aot_plus.viz.plots import plot_memory_timeline
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


def policy_table(runs: dict[str, Path], split: str) -> list[tuple[str, float, float, int]]:
    """Rows (policy, J, J_tr, most frames in the bank over all sequences) of the runs' VOST metric CSVs."""
    rows = []
    for name, folder in runs.items():
        report = read_report(folder, split, "j")
        if report is None:
            raise ValueError(f"{folder}: no VOST (J) results for split {split!r}; expected global_results-{split}.csv")
        metrics = report.metrics
        peak = 0
        for path in sorted(plots_dir(folder).glob("*_memory.json")):
            peak = max([peak] + [len(kept) for kept in read_timeline(path)[1]])
        rows.append((name, metrics["J-Mean"], metrics["J_last-Mean"], peak))
    return rows


def format_table(rows: Sequence[tuple[str, float, float, int]]) -> str:
    """The rows as a fixed-width text table (J and J_tr in percent)."""
    lines = [f"{'policy':<10} {'J':>6} {'J_tr':>6} {'max bank':>9}"]
    lines += [f"{name:<10} {100 * j:6.1f} {100 * j_tr:6.1f} {peak:9d}" for name, j, j_tr, peak in rows]
    return "\n".join(lines)


def compare_timelines(runs: dict[str, Path], figure: Path, sequence: Optional[str] = None) -> tuple[str, Path]:
    """Draw the memory timelines of every run for one sequence into ``figure``; returns (sequence, path)."""
    if sequence is None:
        common = set.intersection(*({p.name[:-len("_memory.json")] for p in plots_dir(folder).glob("*_memory.json")}
                                    for folder in runs.values()))
        if not common:
            raise ValueError("no sequence has a memory timeline in every run (did the evaluations use --plots?)")
        sequence = sorted(common)[0]
    timelines = {name: read_timeline(plots_dir(folder) / f"{sequence}_memory.json")[1]
                 for name, folder in runs.items()}
    return sequence, plot_memory_timeline(timelines, figure, title=f"{sequence}: long-term memory per policy")


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
    sys.stdout.write(f"---------- VOST metrics on the synthetic {args.split} split (percent) ----------\n")
    sys.stdout.write(format_table(rows) + "\n")
    sys.stdout.write("\nPlots:\n")
    for name, folder in runs.items():
        sys.stdout.write(f"  {name:<10} {plots_dir(folder)}/<seq>_memory.png, <seq>_J.png\n")
    sys.stdout.write(f"  all policies, {sequence}: {figure}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
