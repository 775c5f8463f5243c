"""``python -m benchmarks``: berdaya's speed against Mesa's BoltzmannWealth example.

In one process it runs, in this order:

1. the reference, Mesa 3.5's own ``BoltzmannWealth`` example (one agent per cell, as in
   its defaults) at 10,000 agents (and 1,000 unless ``--quick``): agent-steps per
   second, median of 3 fresh builds;
2. ``kedungkandang-2008`` at its own size (4,000 households, 48 months);
3. the same rules at 10,000 households x 48 months and 100,000 x 120 months (the scale
   target: under 20 s, build included), and 1,000,000 x 120 with ``--full``;
4. the reference at 10,000 again, as a check that the machine's load did not change
   (other processes' CPU use over the timings is measured too, and warned about);
5. a separate memory pass over every case with :mod:`tracemalloc`.

For each case: build time, time per month (stepping only), household-months per second
(households x months / stepping seconds), peak traced memory, growth of the process's peak
RSS during the timing runs, and the ratio of household-months per second to the
reference's agent-steps per second at 10,000 agents. Results go to a JSON file
(default ``benchmarks/results/latest.json``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.core import (
    SEED,
    Case,
    CpuMeter,
    memory_of_p2kp,
    memory_of_reference,
    time_p2kp,
    time_reference,
    warm_up,
)
from benchmarks.report import machine_info, table, timestamp, write_json

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
REFERENCE_N = 10_000
OTHERS_LIMIT = 0.5  # share of the CPUs other processes used on average, to warn at
SPREAD_LIMIT = 1.15  # slowest/fastest repeat (or reference after/before) to warn at
TARGET = {"households": 100_000, "months": 120, "seconds": 20.0}


def plan(quick: bool, full: bool) -> tuple[list[tuple[int, int, int]], list[Case]]:
    """Choose the reference runs and P2KP cases.

    Args:
        quick: The reduced set (about a minute).
        full: Add 1,000,000 households (ignored with ``quick``).

    Returns:
        (reference runs as (agents, steps, repeats), P2KP cases).
    """
    # 48 steps: as many steps as the P2KP runs at 10,000 have months, so the one-off
    # cost of the reference's first step (Mesa builds cell neighbourhoods lazily) is
    # amortised alike.
    if quick:
        references = [(REFERENCE_N, 48, 3)]
    else:
        references = [(1_000, 48, 3), (REFERENCE_N, 48, 3)]
    cases = [
        Case("kedungkandang-2008", None, None, 3),
        Case("10k households", 10_000, 48, 3),
        Case("100k households", 100_000, 120, 1 if quick else 3),
    ]
    if full and not quick:
        cases.append(Case("1M households", 1_000_000, 120, 1))
    return references, cases


def _fmt_cpus(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f} CPUs"


def check_stability(
    results: list[dict[str, Any]],
    ref: dict[str, Any],
    ref_after: dict[str, Any],
    *,
    busy: CpuMeter,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> dict[str, Any]:
    """Flag signs that other work on the machine disturbed the timings.

    Args:
        results: All timed cases.
        ref: The reference at 10,000 agents, timed first.
        ref_after: The same reference timed again after the P2KP cases.
        busy: CPU use of the machine and of this process over the timings.
        load_before: ``os.getloadavg()`` before the timings.
        load_after: ``os.getloadavg()`` after them.

    Returns:
        Load averages, the reference before/after, the spread of each case's repeats
        (slowest over fastest) and a list of warnings.
    """
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    drift = ref_after["agent_steps_per_s"] / ref["agent_steps_per_s"]
    spread = {
        r["label"]: max(x["units_steps_per_s"] for x in r["per_repeat"])
        / min(x["units_steps_per_s"] for x in r["per_repeat"])
        for r in results
    }
    warnings = []
    if abs(drift - 1.0) > SPREAD_LIMIT - 1.0:
        warnings.append(
            f"the reference ran {drift:.2f}x as fast after the P2KP cases as before: "
            "the machine's load changed during the run"
        )
    noisy = [k for k, v in spread.items() if v > SPREAD_LIMIT]
    if noisy:
        warnings.append(
            f"repeats differ by more than {SPREAD_LIMIT - 1:.0%} in: {', '.join(noisy)}"
        )
    others = busy.others_cpus()
    if others is not None and others > OTHERS_LIMIT * nproc:
        warnings.append(
            f"other processes kept on average {others:.2f} of {nproc} CPUs busy "
            "during the timings"
        )
    return {
        "other_processes_cpus": others,
        "loadavg_before": list(load_before),
        "loadavg_after": list(load_after),
        "reference_after_agent_steps_per_s": ref_after["agent_steps_per_s"],
        "reference_after_per_repeat": ref_after["per_repeat"],
        "reference_after_over_before": drift,
        "repeat_spread": spread,
        "warnings": warnings,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write the JSON file.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.splitlines()[0].replace("``", ""),
    )
    parser.add_argument(
        "--quick", action="store_true", help="reduced set (about a minute)"
    )
    parser.add_argument(
        "--full", action="store_true", help="also 1,000,000 households (slow)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of every run")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the tracemalloc pass"
    )
    args = parser.parse_args(argv)
    references, cases = plan(args.quick, args.full)
    started = time.perf_counter()

    load_before = os.getloadavg()
    busy = CpuMeter()
    print("warming up (not timed) ...", flush=True)
    warm_up(args.seed)

    results: list[dict[str, Any]] = []
    for n, steps, repeats in references:
        print(
            f"reference BoltzmannWealth {n:,} agents x {steps} steps, "
            f"{repeats} builds ...",
            flush=True,
        )
        results.append(time_reference(n, steps, repeats, args.seed))
    ref = next(r for r in results if r["units"] == REFERENCE_N)
    for case in cases:
        print(f"{case.label}: {case.repeats} build(s) and runs ...", flush=True)
        results.append(time_p2kp(case, args.seed))
    n, steps, repeats = next(x for x in references if x[0] == REFERENCE_N)
    print(f"reference again (load check), {repeats} builds ...", flush=True)
    ref_after = time_reference(n, steps, repeats, args.seed)
    load_after = os.getloadavg()
    busy.stop()

    if not args.no_memory:
        print("memory pass (tracemalloc, separate runs) ...", flush=True)
        for r in results:
            if r["kind"] == "reference":
                r["memory"] = memory_of_reference(r["units"], r["steps"], args.seed)
        for case, r in zip(cases, results[len(references) :], strict=True):
            r["memory"] = memory_of_p2kp(case, args.seed)

    for r in results:
        if r["kind"] == "p2kp":
            r["ratio_to_reference"] = (
                r["household_months_per_s"] / ref["agent_steps_per_s"]
            )
            r["steady_ratio_to_reference"] = (
                r["steady_units_steps_per_s"] / ref["steady_units_steps_per_s"]
            )
    at_ref = next(
        r for r in results if r["kind"] == "p2kp" and r["units"] == REFERENCE_N
    )
    big = next(
        r
        for r in results
        if r["units"] == TARGET["households"] and r["steps"] == TARGET["months"]
    )
    target_met = big["build_plus_stepping_s"] < TARGET["seconds"]

    print()
    print(table(results))
    print()
    print(
        f"ratio (household-months/s at {REFERENCE_N:,} households over reference "
        f"agent-steps/s at {REFERENCE_N:,} agents): "
        f"{at_ref['ratio_to_reference']:,.0f}x "
        f"({at_ref['household_months_per_s']:,.0f} / {ref['agent_steps_per_s']:,.0f})"
    )
    print(
        f"steady-state ratio (median month vs median step, first-step costs "
        f"excluded): {at_ref['steady_ratio_to_reference']:,.0f}x"
    )
    print(
        f"scale target {TARGET['households']:,} households x {TARGET['months']} "
        f"months, build included: {big['build_plus_stepping_s']:.2f} s "
        f"(target < {TARGET['seconds']:.0f} s: {'met' if target_met else 'NOT met'})"
    )
    stability = check_stability(
        results,
        ref,
        ref_after,
        busy=busy,
        load_before=load_before,
        load_after=load_after,
    )
    print(
        f"reference re-timed after the P2KP cases: "
        f"{ref_after['agent_steps_per_s']:,.0f} agent-steps/s "
        f"({stability['reference_after_over_before']:.2f}x the first timing); "
        f"other processes' CPU use during the timings: "
        f"{_fmt_cpus(stability['other_processes_cpus'])}"
    )
    for warning in stability["warnings"]:
        print(f"WARNING: {warning}")
    print(
        "peak MiB: tracemalloc peak of a separate build+run (Python and numpy "
        "allocations, not the interpreter); dRSS MiB: growth of ru_maxrss during the "
        "timed runs (0 when below an earlier peak)."
    )

    payload = {
        "timestamp": timestamp(),
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
        "mode": "quick" if args.quick else ("full" if args.full else "default"),
        "seed": args.seed,
        "machine": machine_info(),
        "method": {
            "clock": "time.perf_counter",
            "build": "model construction (P2KPModel(scenario) / BoltzmannWealth(...))",
            "stepping": "sum of model.step() times; median over repeats",
            "throughput": "units x steps / stepping seconds (household-months/s "
            "for P2KP, agent-steps/s for the reference)",
            "memory": "tracemalloc peak over a separate build and run (MiB); "
            "maxrss_delta_mb: ru_maxrss growth over the timed runs",
            "reference": "mesa.examples.basic.boltzmann_wealth_model "
            "BoltzmannWealth, square grid at one agent per cell, fresh build per "
            "repeat",
        },
        "reference_agent_steps_per_s": ref["agent_steps_per_s"],
        "ratio_at_10k": at_ref["ratio_to_reference"],
        "steady_ratio_at_10k": at_ref["steady_ratio_to_reference"],
        "target": {
            **TARGET,
            "build_plus_stepping_s": big["build_plus_stepping_s"],
            "met": target_met,
        },
        "stability": stability,
        "results": results,
        "wall_s": time.perf_counter() - started,
    }
    path = write_json(args.out, payload)
    print(f"wrote {path} ({payload['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
