"""``berdaya levers``: a Markdown table of what each policy lever moves at follow-up."""

from __future__ import annotations

import argparse
import math

from berdaya.cli import options as o
from berdaya.experiments.defaults import (
    DEFAULT_REPLICATIONS,
    DEFAULT_SCENARIO,
    SMALL_EFFECT,
)

DESCRIPTION = (
    "Run a scenario, the same without the programme, and each lever variant (BLM x2 "
    "and x0.5, loan interest 0 and 3%, joint liability off, KSM training off, "
    "accompaniment doubled, kelurahan involvement 1, audits 0 and 0.5, Tridaya "
    "6/10/84...) over paired seeds, and print for each lever and outcome the effect "
    "at follow-up with its 95% interval, its size d against the spread across seeds, "
    "and 'inert' where it is within that noise."
)


def add(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya levers``."""
    p.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        help="shipped scenario name or TOML path (default: %(default)s)",
    )
    o.add_replications(p, default=DEFAULT_REPLICATIONS)
    o.add_seed(p)
    o.add_set(p, "override a parameter in every arm (repeatable)")
    p.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help="an outcome of the table (repeatable; default: poverty, stages, money)",
    )
    p.add_argument(
        "--inert-below",
        type=float,
        default=SMALL_EFFECT,
        metavar="D",
        help="an effect with |d| below D (or not clear of 0) is inert (default: "
        "%(default)s)",
    )
    p.add_argument("--out", metavar="FILE.md", help="write the table to FILE.md")
    o.add_store(p, "every replication's runs")
    o.add_workers(p)


def run(args: argparse.Namespace) -> int:
    """Make the lever table; print it or write it."""
    from berdaya.experiments.levers import LEVER_OUTCOMES, check_md_path, lever_table
    from berdaya.experiments.limits import check_writable
    from berdaya.scenarios import parse_set

    overrides = parse_set(args.set)
    o.in_range("--replications", args.replications, 2, o.MAX_REPLICATIONS)
    workers = o.workers(args.workers)
    o.in_range("--seed", args.seed, 0)
    if not (math.isfinite(args.inert_below) and args.inert_below >= 0):
        raise ValueError(
            f"--inert-below must be a number >= 0 (got {args.inert_below:g})"
        )
    if args.out is not None:
        check_writable(check_md_path(args.out), "--out")
    o.check_set([args.scenario], overrides)
    table = lever_table(
        args.scenario,
        args.replications,
        args.seed,
        overrides=overrides,
        outcomes=args.outcome or LEVER_OUTCOMES,
        inert_below=args.inert_below,
        workers=workers,
        progress=True,
        store=args.store,
    )
    if args.out is None:
        print(table.markdown())
    else:
        print(f"lever table written to {table.write(args.out)}")
    return 0


VERB = o.Verb(
    "levers",
    "a Markdown table of what each policy lever moves at follow-up",
    add,
    run,
    DESCRIPTION,
    examples=(
        "berdaya levers kedungkandang-2008 --replications 2 --set n_households=100 --set months=36 --out levers.md",
    ),
)
