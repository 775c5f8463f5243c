"""``berdaya compare``: two scenarios over paired seeds, differences B - A."""

from __future__ import annotations

import argparse

from berdaya.cli import options as o
from berdaya.experiments.defaults import DEFAULT_PAIRED_REPLICATIONS

DESCRIPTION = (
    "Run scenarios A and B with the same paired seeds and print, for each headline "
    "outcome at cycle end and at follow-up, both means, the paired difference B - A "
    "with a 95% confidence interval and its size d relative to the spread across "
    "seeds; then how the cycle ended. 'none' as A or B is the other scenario without "
    "the programme (programme = false), followed as long as its paired run. When "
    "both scenarios are built on the observed case, replication i of A and B also "
    "shares a parameter set drawn from its calibrated ensemble (--ensemble none: seed "
    "noise only), so the intervals cover parameter uncertainty too, and the same "
    "pairs also run without the draws on the same seeds (twice the runs) to say which "
    "share of the spread of B - A comes from the parameters and which from the seeds."
)


def add(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya compare``."""
    p.add_argument(
        "a", help="scenario A, the reference (name, TOML path, or none: B without P2KP)"
    )
    p.add_argument("b", help="scenario B (name, TOML path, or none: A without P2KP)")
    o.add_replications(p, default=DEFAULT_PAIRED_REPLICATIONS)
    o.add_seed(p)
    o.add_months(p)
    o.add_set(p, "override a parameter in both scenarios (repeatable)")
    p.add_argument(
        "--out",
        metavar="FILE.csv|.parquet",
        help="write the per-replication outcomes at both moments (with each seed)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw the monthly envelopes of both scenarios",
    )
    o.add_store(p, "every replication's runs")
    o.add_default_ensemble(
        p, "each replication's calibrated parameters (one set for A and B)"
    )
    o.add_workers(p)


def run(args: argparse.Namespace) -> int:
    """Compare, print the table, write the outcomes and the plot if asked."""
    from berdaya.experiments.compare import NONE, compare
    from berdaya.experiments.files import check_out_path
    from berdaya.experiments.limits import check_writable
    from berdaya.experiments.plots import comparison_envelopes, plot_formats
    from berdaya.scenarios import parse_set

    overrides = parse_set(args.set)
    o.in_range("--replications", args.replications, 1, o.MAX_REPLICATIONS)
    workers = o.workers(args.workers)
    o.in_range("--seed", args.seed, 0)
    o.months(args, overrides)
    if args.out is not None:
        check_writable(check_out_path(args.out), "--out")
    if args.plot is not None and not args.plot.lower().endswith(plot_formats()):
        raise ValueError(f"--plot: '{args.plot}' must end in .png (or .pdf, .svg)")
    if args.plot is not None:
        check_writable(args.plot, "--plot")
    scenarios = [s for s in (args.a, args.b) if s != NONE]
    o.check_set(scenarios, overrides)
    ensemble, note = o.default_ensemble(args.ensemble, scenarios)
    comparison = compare(
        args.a,
        args.b,
        replications=args.replications,
        seed=args.seed,
        months=args.months,
        overrides=overrides,
        workers=workers,
        progress=True,
        ensemble=ensemble,
        store=args.store,
    )
    comparison.note = note or None
    print(comparison.table())
    if args.out is not None or args.plot is not None:
        print()
    if args.out is not None:
        print(f"per-replication outcomes written to {comparison.to_file(args.out)}")
    if args.plot is not None:
        print(
            f"monthly envelopes drawn in {comparison_envelopes(comparison, args.plot)}"
        )
    return 0


VERB = o.Verb(
    "compare",
    "compare two scenarios over paired seeds (differences B - A)",
    add,
    run,
    DESCRIPTION,
    examples=(
        "berdaya compare kedungkandang-2008 p2kp-design --replications 2 --months 24 --set n_households=200",
        "berdaya compare none kedungkandang-2008 --replications 2 --months 36 --set n_households=200 --out compare.csv --ensemble none",
        "berdaya compare kedungkandang-2008 kelurahan-partner --replications 2 --months 24 --set n_households=200 --ensemble kedungkandang-2008",
    ),
)
