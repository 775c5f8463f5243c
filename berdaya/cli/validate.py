"""``berdaya validate``: the thesis' patterns over fresh seeds (exit 1 if one fails)."""

from __future__ import annotations

import argparse

from berdaya.cli import options as o
from berdaya.experiments.defaults import DEFAULT_PAIRED_REPLICATIONS, DEFAULT_SCENARIO


def add(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya validate``."""
    p.add_argument("--observed", default=DEFAULT_SCENARIO, help="%(default)s")
    p.add_argument("--design", default="p2kp-design", help="%(default)s")
    p.add_argument(
        "--replications",
        type=int,
        default=DEFAULT_PAIRED_REPLICATIONS,
        help="seeds (default: %(default)s)",
    )
    p.add_argument(
        "--entropy", type=int, help="SeedSequence entropy to repeat a validation"
    )
    p.add_argument(
        "--workers", type=int, default=1, help="local processes (default: %(default)s)"
    )
    o.add_set(
        p,
        "override a parameter in both scenarios (repeatable): do the patterns still "
        "hold there?",
    )


def run(args: argparse.Namespace) -> int:
    """Validate; print the table; exit 1 when a pattern fails."""
    from berdaya.experiments.validate import validate
    from berdaya.scenarios import parse_set

    o.in_range("--replications", args.replications, 2, o.MAX_REPLICATIONS)
    workers = o.workers(args.workers)
    o.in_range("--entropy", args.entropy, 0)
    overrides = parse_set(args.set)
    o.check_set([args.observed, args.design], overrides)
    result = validate(
        args.observed,
        args.design,
        replications=args.replications,
        entropy=args.entropy,
        workers=workers,
        overrides=overrides,
        progress=True,
    )
    print(result.table())
    return 0 if result.passed else 1


VERB = o.Verb(
    "validate",
    "test the thesis' patterns over fresh seeds (exit 1 if one fails)",
    add,
    run,
    "Run the observed case and the P2KP design over fresh paired seeds and test each "
    "pattern (P1-P4) and the contrast with 95% confidence intervals.",
    examples=("berdaya validate --replications 2 --set n_households=200",),
)
