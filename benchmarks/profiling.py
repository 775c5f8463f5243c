"""``python -m benchmarks.profiling``: where build and step time go, by cProfile.

Profiles one P2KP run with two separate profilers, one around model construction and one
around the monthly steps, and prints the top entries of each sorted by cumulative and by
own (tottime) time. The run: ``--scenario`` (default ``kedungkandang-2008``), at
``--households`` a kelurahan for ``--months``; without them, 100,000 households x 120
months for ``kedungkandang-2008`` (the scale target) and the scenario's own size and
length for any other (``--scenario kota-malang``: 57 x 4,000 households, 48 months).
``--dump DIR`` also writes ``build.prof`` and ``step.prof`` for snakeviz or pstats.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

from benchmarks.core import SCENARIO, SEED, Case, load_p2kp, total_households

# households a kelurahan and months when not given: the scale target for the default
DEFAULT_SIZE = {SCENARIO: (100_000, 120)}


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
    parser.add_argument(
        "--scenario", default=SCENARIO, help=f"shipped scenario (default {SCENARIO})"
    )
    parser.add_argument(
        "--households",
        type=int,
        help="households in each kelurahan (default: 100,000 for "
        f"{SCENARIO}, the scenario's own otherwise)",
    )
    parser.add_argument(
        "--months",
        type=int,
        help=f"months (default: 120 for {SCENARIO}, the scenario's own otherwise)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--top", type=int, default=30, help="entries per listing")
    parser.add_argument("--dump", type=Path, help="folder for build/step .prof files")
    args = parser.parse_args(argv)

    from berdaya.model import P2KPModel  # noqa: PLC0415

    households, months = DEFAULT_SIZE.get(args.scenario, (None, None))
    case = Case(
        "profile",
        households if args.households is None else args.households,
        months if args.months is None else args.months,
        1,
        scenario=args.scenario,
    )
    scenario = load_p2kp(case, args.seed)
    months = scenario.params.months
    warm = Case("warm-up", 60, 2, 1, scenario=args.scenario)
    P2KPModel(load_p2kp(warm, args.seed)).step()

    build_prof = cProfile.Profile()
    t = time.perf_counter()
    build_prof.enable()
    model = P2KPModel(scenario)
    build_prof.disable()
    build_s = time.perf_counter() - t

    step_prof = cProfile.Profile()
    t = time.perf_counter()
    step_prof.enable()
    for _ in range(months):
        model.step()
    step_prof.disable()
    step_s = time.perf_counter() - t

    p = scenario.params
    print(
        f"{args.scenario}: {total_households(scenario):,} households "
        f"({p.n_kelurahan:,} kelurahan x {p.n_households:,}) x {months} months "
        f"under cProfile: build {build_s:.2f} s, stepping {step_s:.2f} s "
        f"({1000 * step_s / months:.2f} ms/month; profiler overhead included)"
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
