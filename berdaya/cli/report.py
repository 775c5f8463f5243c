"""``berdaya report``: summaries, paired effects, sensitivity and plots of a sweep."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from berdaya.cli import options as o
from berdaya.experiments.defaults import DEFAULT_LEVEL


def add(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya report``."""
    p.add_argument("results", help="results folder of `berdaya sweep`")
    p.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help="report only this outcome (repeatable)",
    )
    p.add_argument(
        "--level",
        type=float,
        default=DEFAULT_LEVEL,
        help=f"confidence level (default: {DEFAULT_LEVEL})",
    )
    p.add_argument("--no-plots", action="store_true", help="write no PNG plots")


def run(args: argparse.Namespace) -> int:
    """Report on the folder; print the text and what was written."""
    from berdaya.experiments.limits import check_writable
    from berdaya.experiments.reporting import report

    if not (math.isfinite(args.level) and 0 < args.level < 1):
        raise ValueError(f"--level must be between 0 and 1 (got {args.level:g})")
    if Path(args.results).is_dir():  # the report's tables and plots go there
        check_writable(args.results, "results folder", folder=True)
    rep = report(
        args.results, outcomes=args.outcome, level=args.level, plots=not args.no_plots
    )
    print(rep.text())
    if rep.written:
        print(f"\nwritten: {', '.join(p.name for p in rep.written)} in {rep.folder}")
    return 0


VERB = o.Verb(
    "report",
    "summaries, paired effects, sensitivity and plots of a sweep's folder",
    add,
    run,
    examples=(
        "berdaya sweep tridaya-split --out results/tridaya --replications 2 --workers 1",
        "berdaya report results/tridaya --no-plots",
    ),
)
