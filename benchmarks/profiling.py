"""``python -m benchmarks.profiling``: where build and step time go, by cProfile.

Profiles one P2KP run (Kedungkandang 2008 rules, default 100,000 households x 120 months)
with two separate profilers, one around model construction and one around the monthly
steps, and prints the top entries of each sorted by cumulative and by own (tottime)
time. ``--dump DIR`` also writes ``build.prof`` and ``step.prof`` for snakeviz or pstats.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

from benchmarks.core import SEED, Case, load_p2kp


def _top(prof: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Profile one build and run, and print the top entries.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profiling",
        description=__doc__.splitlines()[0].replace("``", ""),
    )
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--top", type=int, default=30, help="entries per listing")
    parser.add_argument("--dump", type=Path, help="folder for build/step .prof files")
    args = parser.parse_args(argv)

    from berdaya.model import P2KPModel  # noqa: PLC0415

    case = Case("profile", args.households, args.months, 1)
    scenario = load_p2kp(case, args.seed)
    P2KPModel(load_p2kp(Case("warm-up", 200, 2, 1), args.seed)).step()

    build_prof = cProfile.Profile()
    t = time.perf_counter()
    build_prof.enable()
    model = P2KPModel(scenario)
    build_prof.disable()
    build_s = time.perf_counter() - t

    step_prof = cProfile.Profile()
    t = time.perf_counter()
    step_prof.enable()
    for _ in range(args.months):
        model.step()
    step_prof.disable()
    step_s = time.perf_counter() - t

    print(
        f"{args.households:,} households x {args.months} months under cProfile: "
        f"build {build_s:.2f} s, stepping {step_s:.2f} s "
        f"({1000 * step_s / args.months:.2f} ms/month; profiler overhead included)"
    )
    for name, prof in (("BUILD", build_prof), ("STEP", step_prof)):
        for sort in ("cumulative", "tottime"):
            print(f"\n===== {name}: top {args.top} by {sort} =====")
            print(_top(prof, sort, args.top))
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        build_prof.dump_stats(args.dump / "build.prof")
        step_prof.dump_stats(args.dump / "step.prof")
        print(f"wrote {args.dump / 'build.prof'} and {args.dump / 'step.prof'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
