"""``berdaya sweep`` and ``berdaya national``: resumable jobs into a results folder."""

from __future__ import annotations

import argparse

from berdaya.cli import options as o
from berdaya.experiments.defaults import DEFAULT_SPEC


def add_sweep(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya sweep``."""
    p.add_argument(
        "spec",
        help="sweep spec: a TOML file or a shipped spec name (experiments/specs)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="results folder")
    p.add_argument(
        "--replications",
        type=int,
        metavar="N",
        help="replications of every point instead of the spec's (the folder holds the "
        "spec with N)",
    )
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="run only the first N runs (every point's first replication first); the "
        "same command without --limit resumes the rest",
    )
    o.add_ensemble(
        p, "each replication's calibrated parameters (one set for every point)"
    )
    o.add_cluster(p, "runs")


def _ensemble(args: argparse.Namespace) -> str | None:
    """``--ensemble``: its name or path, the bare flag's for the spec's scenario."""
    if args.ensemble is None:
        return None
    if args.ensemble == o.NO_ENSEMBLE:
        raise ValueError(
            "--ensemble none: a sweep draws no parameter sets unless asked (its spec's "
            "ensemble key, or --ensemble NAME|PATH); leave --ensemble out, and the "
            "key, to run seeds only"
        )
    from berdaya.experiments.ensemble import EnsembleError, ensemble_for
    from berdaya.experiments.spec import load_spec

    if args.ensemble != o.FOR_THE_SCENARIO:
        return args.ensemble
    try:
        return ensemble_for([load_spec(args.spec).scenario_ref])
    except EnsembleError as err:
        raise ValueError(f"--ensemble: {err}") from None


def run_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) the sweep; say what is on disk."""
    from berdaya.experiments.sweep import SweepProgress, run_sweep

    if not args.out.strip():
        raise ValueError("--out is empty: give the folder the runs go to")
    o.in_range("--replications", args.replications, 1, o.MAX_REPLICATIONS)
    o.in_range("--limit", args.limit, 1)
    where = o.cluster(args)
    ensemble = _ensemble(args)
    counts = SweepProgress(total=0)
    _, stopped = o.resumable(
        lambda: run_sweep(
            args.spec,
            args.out,
            replications=args.replications,
            limit=args.limit,
            ensemble=ensemble,
            retry_errors=args.retry_errors,
            progress=True,
            report=counts,
            **where,
        ),
        counts,
        args.out,
        "runs",
    )
    if stopped is not None:
        return stopped
    o.say_damaged(counts, args.out, "runs")
    print(
        f"sweep done: {counts.total} runs in {args.out} ({counts.ran} run now, "
        f"{counts.skipped} already there; {counts.per_minute:,.0f} runs/min)"
    )
    if counts.errors:
        print(
            f"{counts.errors} runs raised: their id, seed, parameters and traceback are "
            f"in {args.out}/errors/ (rerun with --retry-errors to run them again)"
        )
    if args.limit is not None:
        print(f"--limit {args.limit}: the same command without --limit runs the rest")
    print(f"summaries and plots: berdaya report {args.out}")
    return 1 if counts.errors else 0


def add_national(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya national``."""
    p.add_argument(
        "spec",
        nargs="?",
        default=DEFAULT_SPEC,
        help="national spec: a TOML file or a shipped spec name (default: %(default)s)",
    )
    p.add_argument("--out", metavar="DIR", help="results folder (required)")
    p.add_argument(
        "--kelurahan",
        type=int,
        metavar="N",
        help="kelurahan to draw (default: the spec's design.samples, 8,813 shipped)",
    )
    o.add_cluster(p, "kelurahan")


def run_national(args: argparse.Namespace) -> int:
    """Run (or resume) the national programme and print its totals."""
    from berdaya.experiments.national import run_national
    from berdaya.experiments.sweep import SweepProgress

    if args.out is None or not args.out.strip():
        raise ValueError("--out DIR is required: the folder the kelurahan go to")
    o.in_range("--kelurahan", args.kelurahan, 1, o.MAX_KELURAHAN)
    where = o.cluster(args)
    counts = SweepProgress(total=0)
    result, stopped = o.resumable(
        lambda: run_national(
            args.spec,
            args.out,
            kelurahan=args.kelurahan,
            retry_errors=args.retry_errors,
            progress=True,
            report=counts,
            **where,
        ),
        counts,
        args.out,
        "kelurahan",
    )
    if stopped is not None:
        return stopped
    o.say_damaged(counts, args.out, "kelurahan")
    print(result.text())
    print(
        f"({counts.ran:,} kelurahan run now, {counts.skipped:,} already there; "
        f"{counts.per_minute:,.0f} kelurahan/min)"
    )
    return 1 if result.errors else 0


SWEEP = o.Verb(
    "sweep",
    "run a sweep spec (levers x uncertainties x replications) into a folder",
    add_sweep,
    run_sweep,
    "Run every design point of a sweep spec over paired replication seeds, writing "
    "each run as it finishes; run the same command again to resume. With an ensemble "
    "(the spec's ensemble key, or --ensemble), replication i of every point also "
    "runs with a parameter set drawn from it. Unlike compare, a sweep draws none by "
    "default: its spec is the record of what ran (and the key of its resume), so the "
    "ensemble is in the spec or on the command line, never implied.",
    examples=(
        "berdaya sweep involvement-progression --out results/sweep --replications 2 --limit 4 --workers 1",
        "berdaya sweep involvement-progression --out results/sweep --replications 2 --workers 1",
    ),
)
NATIONAL = o.Verb(
    "national",
    "run a national programme (a run per kelurahan) and add it up by month",
    add_national,
    run_national,
    "Run every kelurahan of a national spec as an independent run, writing each as it "
    "finishes (the same command resumes), then add them up month by month into "
    "DIR/national.csv and DIR/national.parquet.",
    examples=("berdaya national --out results/national --kelurahan 4 --workers 1",),
)
