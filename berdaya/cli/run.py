"""``berdaya run``: one scenario, one seed, a summary (and the monthly table)."""

from __future__ import annotations

import argparse

from berdaya.cli import options as o
from berdaya.experiments.defaults import DEFAULT_RUN_SEED, DEFAULT_SCENARIO


def add(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya run``."""
    p.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        help="shipped scenario name or path to a TOML file (default: %(default)s)",
    )
    o.add_seed(p, default=DEFAULT_RUN_SEED, master=False)
    o.add_months(p)
    o.add_set(p, "override a parameter (repeatable); see `berdaya params`")
    p.add_argument("--out", help="write the monthly table to FILE.parquet or .csv")


def run(args: argparse.Namespace) -> int:
    """Run the scenario and print its summary."""
    from berdaya.cli.run_summary import summary
    from berdaya.experiments.files import check_out_path
    from berdaya.experiments.limits import check_writable
    from berdaya.experiments.run import run
    from berdaya.scenarios import parse_set

    overrides = parse_set(args.set)
    o.months(args, overrides)
    o.in_range("--seed", args.seed, 0, o.MAX_SEED)
    if args.out is not None:
        check_writable(check_out_path(args.out), "--out")
    o.check_set([args.scenario], overrides)
    result = run(args.scenario, args.seed, months=args.months, overrides=overrides)
    print(summary(result))
    if args.out is not None:
        path = result.to_file(args.out)
        print(f"\nmonthly table written to {path}")
    return 0


VERB = o.Verb(
    "run",
    "run one scenario and print a summary",
    add,
    run,
    examples=(
        "berdaya run --scenario kedungkandang-2008 --seed 1 --months 12",
        "berdaya run --scenario p2kp-design --set n_households=400 --months 24 --out run.csv",
    ),
)
