"""``python -m benchmarks``: berdaya's speed against Mesa's BoltzmannWealth example.

In one process it runs, in this order:

1. the reference, Mesa 3.5's own ``BoltzmannWealth`` example on a square grid scaled to
   its default density (one agent per cell) at 10,000 agents (and 1,000 unless
   ``--quick``): agent-steps per second, median of 3 fresh builds. This is the headline
   reference, the stricter (faster) one;
2. the example as shipped, only ``n`` changed (``BoltzmannScenario(n=10000)``: its
   default 10 x 10 grid, 100 agents a cell), at 10,000 agents, as a second reference;
3. ``kedungkandang-2008`` at its own size (4,000 households, 48 months);
4. the same rules at 10,000 households x 48 months and 100,000 x 120 months, and
   1,000,000 x 120 with ``--full``;
5. ``kota-malang``, a city of 57 kelurahan x 4,000 households, 48 months, build included;
6. the density-matched reference at 10,000 again, as a check that the machine's load
   did not change (other processes' CPU use over the timings is measured too, and
   warned about);
7. a separate memory pass with :mod:`tracemalloc` (``--quick`` leaves out the city and
   the as-shipped reference: the traced city run alone takes about 15 s);
8. the command line's start (:mod:`benchmarks.startup`): ``berdaya --help`` and an
   argument error, interleaved with ``python -c "import mesa"`` in fresh processes;
9. issue 19's figures (:mod:`benchmarks.interleaved`), each as the median (min-max) of
   at least 5 interleaved pairs in CPU time against the reference: the ratio at 10,000
   households, stepping and with the builds; the default run in ms and runs a minute a
   core; and the sweep efficiency on 2 warm workers, serial and parallel sweeps
   interleaved (about 15-20 s; ``--no-sweep`` leaves it out).

Steps 1-7 are wall-clock and measured once each (the table; issue 7's targets): on a
shared machine read step 9's interleaved figures. For each case: build time, time per month (stepping only), household-months per second
(households x months / stepping seconds; a city's households are all its kelurahan's),
peak traced memory, growth of the process's peak RSS during the timing runs, and the
ratio of household-months per second to each reference's agent-steps per second at
10,000 agents. Then one line per target of issue 7 (:data:`TARGETS`), met or not.
Results go to a JSON file (default ``benchmarks/results/latest.json``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.core import (
    MB,
    SCENARIO,
    SEED,
    Case,
    CpuMeter,
    Reference,
    memory_of_p2kp,
    memory_of_reference,
    time_p2kp,
    time_reference,
    warm_up,
)
from benchmarks.interleaved import Plan, interleaved, sweep_efficiency
from benchmarks.interleaved import checks as issue19_checks
from benchmarks.interleaved import lines as issue19_lines
from benchmarks.report import machine_info, table, timestamp, write_json
from benchmarks.startup import startup_lines, time_startup

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
REFERENCE_N = 10_000
OTHERS_LIMIT = 0.5  # share of the CPUs other processes used on average, to warn at
SPREAD_LIMIT = 1.15  # slowest/fastest repeat (or reference after/before) to warn at
CITY = "kota-malang"
# The targets of issue 7, each checked and printed after the table.
TARGETS: dict[str, Any] = {
    # household-months/s at 10,000 households over agent-steps/s of each reference
    "ratio_at_10k_min": 50.0,
    # 100,000 households x 120 months, build + stepping
    "scale_households": 100_000,
    "scale_months": 120,
    "scale_seconds": 20.0,
    # kedungkandang-2008 at its own size, build + stepping
    "kedungkandang_seconds": 1.0,
    # kota-malang at its own size, build + stepping
    "city_scenario": CITY,
    "city_seconds": 60.0,
    # 1,000,000 households (``--full``): tracemalloc peak and ru_maxrss, each
    "memory_households": 1_000_000,
    "memory_gb": 8.0,  # GB = 10**9 bytes
}


def plan(quick: bool, full: bool) -> tuple[list[Reference], list[Case]]:
    """Choose the reference runs and P2KP cases.

    Args:
        quick: The reduced set (about a minute).
        full: Add 1,000,000 households (ignored with ``quick``).

    Returns:
        (reference runs, P2KP cases).
    """
    # 48 steps: as many steps as the P2KP runs at 10,000 have months, so the one-off
    # cost of the reference's first step (Mesa builds cell neighbourhoods lazily) is
    # amortised alike.
    references = [
        Reference(REFERENCE_N, 48, 3),
        Reference(REFERENCE_N, 48, 3, shipped=True, memory=not quick),
    ]
    if not quick:
        references.insert(0, Reference(1_000, 48, 3))
    cases = [
        Case(SCENARIO, None, None, 3),
        Case("10k households", 10_000, 48, 3),
        Case("100k households", 100_000, 120, 1 if quick else 3),
        # its own size (57 x 4,000 households) and length (48 months); about 10 s a
        # run, 15 s more traced, which --quick leaves out
        Case(CITY, None, None, 1 if quick else 3, scenario=CITY, memory=not quick),
    ]
    if full and not quick:
        cases.append(Case("1M households", 1_000_000, 120, 1))
    return references, cases


def _check(
    name: str,
    text: str,
    measured: float | None,
    *,
    limit: float,
    unit: str,
    missing: str = "",
) -> dict[str, Any]:
    """One target: a ratio (unit ``x``) must reach ``limit``, a time or size stay below.

    ``missing`` says why ``measured`` is None, if it is.
    """
    cmp = ">=" if unit == "x" else "<"
    met = None
    if measured is not None:
        met = measured >= limit if cmp == ">=" else measured < limit
    return {
        "name": name,
        "description": text,
        "measured": measured,
        "comparison": cmp,
        "limit": limit,
        "unit": unit,
        "met": met,
        **({"not_measured": missing} if measured is None else {}),
    }


def check_targets(
    by_label: dict[str, dict[str, Any]],
    ref: dict[str, Any],
    shipped: dict[str, Any],
    at_ref: dict[str, Any],
) -> list[dict[str, Any]]:
    """Check the measured figures against :data:`TARGETS`.

    Args:
        by_label: Every timed case by its label.
        ref: The density-matched reference at 10,000 agents.
        shipped: The reference as shipped (10 x 10 grid) at 10,000 agents.
        at_ref: The P2KP case at 10,000 households.

    Returns:
        One entry per target: name, description, measured value, comparison, limit,
        unit and whether it was met (None: not measured in this mode).
    """
    t = TARGETS
    checks = [
        _check(
            "ratio_at_10k",
            f"ratio at {REFERENCE_N:,} against the density-matched reference "
            f"({ref['grid'][0]} x {ref['grid'][1]} grid, one agent a cell)",
            at_ref["ratio_to_reference"],
            limit=t["ratio_at_10k_min"],
            unit="x",
        ),
        _check(
            "ratio_at_10k_as_shipped",
            f"ratio at {REFERENCE_N:,} against the example as shipped "
            f"(10 x 10 grid, {shipped['agents_per_cell']:,.0f} agents a cell)",
            at_ref["ratio_to_reference_as_shipped"],
            limit=t["ratio_at_10k_min"],
            unit="x",
        ),
    ]
    p2kp = [r for r in by_label.values() if r["kind"] == "p2kp"]
    # v2 runs stop followup_months after the programme ends: months is only a cap, so
    # the case is found by its size and its months are those it ran
    scale = next(
        r
        for r in p2kp
        if r["scenario"] == SCENARIO and r["units"] == t["scale_households"]
    )
    checks.append(
        _check(
            "scale",
            f"{t['scale_households']:,} households x {scale['steps']} months "
            f"(a cap of {t['scale_months']}), build included",
            scale["build_plus_stepping_s"],
            limit=t["scale_seconds"],
            unit="s",
        )
    )
    for name, label, limit in (
        ("kedungkandang", SCENARIO, t["kedungkandang_seconds"]),
        ("city", t["city_scenario"], t["city_seconds"]),
    ):
        r = by_label[label]
        checks.append(
            _check(
                name,
                f"{label} ({r['units']:,} households x {r['steps']} months), "
                "build included",
                r["build_plus_stepping_s"],
                limit=limit,
                unit="s",
            )
        )
    big = next(
        (
            r
            for r in p2kp
            if r["scenario"] == SCENARIO and r["units"] == t["memory_households"]
        ),
        {},
    )
    traced = (big.get("memory") or {}).get("peak_mb")
    for name, what, value in (
        ("memory_traced", "tracemalloc peak", traced),
        (
            "memory_rss",
            "process peak RSS (ru_maxrss) after its run",
            big.get("maxrss_mb"),
        ),
    ):
        checks.append(
            _check(
                name,
                f"{t['memory_households']:,} households, {what}",
                value,
                limit=t["memory_gb"] * 1e9 / MB,
                unit="MiB",
                missing="--no-memory" if big else "needs --full",
            )
        )
    return checks


def _fmt_check(c: dict[str, Any]) -> str:
    unit = c["unit"]
    if unit == "x":
        value, limit = f"{c['measured']:,.1f}x", f"{c['limit']:,.0f}x"
    elif unit == "s":
        value, limit = f"{c['measured']:,.2f} s", f"{c['limit']:,.0f} s"
    else:
        value = "-" if c["measured"] is None else f"{c['measured']:,.0f} MiB"
        limit = f"{TARGETS['memory_gb']:.0f} GB = {c['limit']:,.0f} MiB"
    verdict = {True: "met", False: "NOT met", None: "not measured"}[c["met"]]
    if "not_measured" in c:
        verdict += f" ({c['not_measured']})"
    return (
        f"target: {c['description']}: {value} (target {c['comparison']} {limit}): "
        f"{verdict}"
    )


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


def issue19(args: argparse.Namespace) -> dict[str, Any]:
    """Time, print and return issue 19's interleaved figures (step 9).

    Args:
        args: The command line: ``pairs``, ``seed``, ``no_sweep``, ``sweep_workers``.

    Returns:
        The interleaved figures, the sweep's (None with ``--no-sweep``) and the checks.
    """
    print(
        f"issue 19: {args.pairs} interleaved pairs (reference, model) ...", flush=True
    )
    result = interleaved(Plan(pairs=args.pairs), args.seed)
    sweep = None
    if not args.no_sweep:
        print(
            f"issue 19: sweep efficiency, {args.pairs} pairs (serial, "
            f"{args.sweep_workers} workers) ...",
            flush=True,
        )
        sweep = sweep_efficiency(args.pairs, replications=8, workers=args.sweep_workers)
    print("\n".join(issue19_lines(result, sweep)))
    return {
        "interleaved": result,
        "sweep": sweep,
        "checks": issue19_checks(result, sweep),
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
    parser.add_argument(
        "--pairs",
        type=int,
        default=None,
        help="interleaved pairs of issue 19's figures (at least 5; default 5, "
        "7 without --quick)",
    )
    parser.add_argument(
        "--no-sweep", action="store_true", help="leave out the sweep efficiency"
    )
    parser.add_argument(
        "--sweep-workers", type=int, default=2, help="workers of the sweep efficiency"
    )
    args = parser.parse_args(argv)
    if args.pairs is None:
        args.pairs = 5 if args.quick else 7
    if args.pairs < 5:
        parser.error("--pairs: at least 5 (a median of fewer is no figure)")
    references, cases = plan(args.quick, args.full)
    started = time.perf_counter()

    load_before = os.getloadavg()
    busy = CpuMeter()
    print("warming up (not timed) ...", flush=True)
    warm_up(args.seed)

    results: list[dict[str, Any]] = []
    for spec in references:
        print(
            f"reference {spec.label}: {spec.n:,} agents on "
            f"{spec.grid[0]} x {spec.grid[1]} x {spec.steps} steps, "
            f"{spec.repeats} builds ...",
            flush=True,
        )
        results.append(time_reference(spec, args.seed))
    ref_spec, shipped_spec = (
        next(x for x in references if x.n == REFERENCE_N and x.shipped == as_shipped)
        for as_shipped in (False, True)
    )
    ref = next(r for r in results if r["label"] == ref_spec.label)
    shipped = next(r for r in results if r["label"] == shipped_spec.label)
    for case in cases:
        print(f"{case.label}: {case.repeats} build(s) and runs ...", flush=True)
        results.append(time_p2kp(case, args.seed))
    print(f"reference again (load check), {ref_spec.repeats} builds ...", flush=True)
    ref_after = time_reference(ref_spec, args.seed)
    load_after = os.getloadavg()
    busy.stop()

    by_label = {r["label"]: r for r in results}
    if not args.no_memory:
        print("memory pass (tracemalloc, separate runs) ...", flush=True)
        for spec in references:
            if spec.memory:
                by_label[spec.label]["memory"] = memory_of_reference(spec, args.seed)
        for case in cases:
            if case.memory:
                by_label[case.label]["memory"] = memory_of_p2kp(case, args.seed)

    for r in results:
        if r["kind"] == "p2kp":
            for suffix, against in (("", ref), ("_as_shipped", shipped)):
                r[f"ratio_to_reference{suffix}"] = (
                    r["household_months_per_s"] / against["agent_steps_per_s"]
                )
                r[f"steady_ratio_to_reference{suffix}"] = (
                    r["steady_units_steps_per_s"] / against["steady_units_steps_per_s"]
                )
    at_ref = next(
        r
        for r in results
        if r["kind"] == "p2kp"
        and r["units"] == REFERENCE_N
        and r["scenario"] == SCENARIO
    )
    checks = check_targets(by_label, ref, shipped, at_ref)
    scale = next(c for c in checks if c["name"] == "scale")

    print()
    print(table(results))
    print()
    print(
        f"ratio (household-months/s at {REFERENCE_N:,} households over the "
        f"density-matched reference's agent-steps/s at {REFERENCE_N:,} agents, "
        f"{ref['grid'][0]} x {ref['grid'][1]} grid, one agent a cell): "
        f"{at_ref['ratio_to_reference']:,.0f}x "
        f"({at_ref['household_months_per_s']:,.0f} / {ref['agent_steps_per_s']:,.0f})"
    )
    print(
        f"ratio against the example as shipped (10 x 10 grid, "
        f"{shipped['agents_per_cell']:,.0f} agents a cell): "
        f"{at_ref['ratio_to_reference_as_shipped']:,.0f}x "
        f"({at_ref['household_months_per_s']:,.0f} / "
        f"{shipped['agent_steps_per_s']:,.0f})"
    )
    print(
        f"steady-state ratio (median month vs median step, first-step costs "
        f"excluded): {at_ref['steady_ratio_to_reference']:,.0f}x density-matched, "
        f"{at_ref['steady_ratio_to_reference_as_shipped']:,.0f}x as shipped"
    )
    for c in checks:
        print(_fmt_check(c))
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
    untraced = [r["label"] for r in results if "memory" not in r]
    if untraced and not args.no_memory:
        print(f"not traced in this mode (peak MiB '-'): {', '.join(untraced)}")
    startup = time_startup()
    print("\n".join(startup_lines(startup)))
    figures19 = issue19(args)

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
            "reference_as_shipped": "the same example as shipped, only n changed: "
            "BoltzmannScenario(n=10000), its default 10 x 10 grid",
            "households": "all households of the model: n_households x n_kelurahan",
        },
        "reference_agent_steps_per_s": ref["agent_steps_per_s"],
        "ratio_at_10k": at_ref["ratio_to_reference"],
        "steady_ratio_at_10k": at_ref["steady_ratio_to_reference"],
        "reference_as_shipped_agent_steps_per_s": shipped["agent_steps_per_s"],
        "ratio_at_10k_as_shipped": at_ref["ratio_to_reference_as_shipped"],
        "steady_ratio_at_10k_as_shipped": at_ref[
            "steady_ratio_to_reference_as_shipped"
        ],
        "target": {
            "households": TARGETS["scale_households"],
            "months": TARGETS["scale_months"],
            "seconds": TARGETS["scale_seconds"],
            "build_plus_stepping_s": scale["measured"],
            "met": scale["met"],
        },
        "targets": TARGETS,
        "target_checks": checks,
        "stability": stability,
        "startup": startup,
        "issue19": figures19,
        "results": results,
        "wall_s": time.perf_counter() - started,
    }
    path = write_json(args.out, payload)
    print(f"wrote {path} ({payload['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
