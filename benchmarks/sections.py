"""``python -m benchmarks.sections``: where a month goes, and the floor under it.

Each mechanism of :meth:`P2KPModel.step` (the lines of the month, in their order) is
timed in CPU time over ``--runs`` runs of ``kedungkandang-2008`` (at ``--households``
for ``--months``, or its own size and length), after one warm-up run. The timers wrap
the mechanisms for the measurement only and are removed after it; the runs' results are
those of unwrapped runs (a test).

**The floor** is the households' own work: their random draws and compiled pass
(``Households.step``) and the household records (the tally and Gini's sort,
``records.household_stats``). The draws cannot go while the same seeds give the same
results (numpy's generator calls, in the same order); the pass, the tally and the sort
could only get faster, not go. So the floor bounds what removing everything else (every
institution's step, the other records, each Python step) could reach. Mesa's
BoltzmannWealth with as many agents as households (one agent a cell, as
:mod:`benchmarks.interleaved`) is stepped before each run, in the same process; the
report gives the ratio of agent-steps per CPU second now and at the floor alone, against
issue 19's 100x, and the floor's months against its 20 ms default run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.core import SCENARIO, SEED, build_reference, release_reference
from benchmarks.interleaved import DEFAULT_RUN_MS, RATIO_MIN

# The month's mechanisms: (label, module, owner in it, attribute); the floor's labels.
SECTIONS = (
    ("new month", "berdaya.model.site", "Site", "new_month"),
    ("kelurahan", "berdaya.agents.kelurahan", "Kelurahan", "step"),
    ("faskel", "berdaya.agents.faskel", "Faskel", "step"),
    ("cycle: activity", "berdaya.model.cycle", "ProgrammeCycle", "act"),
    ("PS-2 list", "berdaya.model.poverty_list", None, "step"),
    ("formation", "berdaya.agents.formation", None, "step"),
    ("UPK", "berdaya.agents.upk.accounts", "UPK", "step"),
    ("board", "berdaya.agents.bkm", "BKM", "step"),
    ("KSM status", "berdaya.model.model", None, "step_ksms"),
    ("households", "berdaya.agents.household", "Households", "step"),
    ("cycle: gate", "berdaya.model.cycle", "ProgrammeCycle", "advance"),
    ("household records", "berdaya.model.records", None, "household_stats"),
    ("records", "berdaya.model.model", "P2KPModel", "_record"),
    ("collector", "berdaya.model.model", "HeadlineCollector", "collect"),
)
FLOOR = ("households", "household records")
# sections timed inside another: their time is taken out of the outer one's
NESTED = {"records": ("household records",)}


def _owner(module: str, owner: str | None) -> Any:
    mod = sys.modules.get(module) or __import__(module, fromlist=["_"])
    return mod if owner is None else getattr(mod, owner)


@contextmanager
def timed(acc: Counter[str]) -> Iterator[None]:
    """Time every mechanism of :data:`SECTIONS` into ``acc`` (CPU seconds) while open.

    Args:
        acc: Where each label's CPU seconds are added up.
    """
    clock = time.process_time
    saved: list[tuple[Any, str, Any]] = []

    def wrap(label: str, f: Callable[..., Any]) -> Callable[..., Any]:
        def timer(*args: Any, **kwargs: Any) -> Any:
            t = clock()
            try:
                return f(*args, **kwargs)
            finally:
                acc[label] += clock() - t

        return timer

    try:
        for label, module, name, attr in SECTIONS:
            owner = _owner(module, name)
            original = owner.__dict__[attr]  # a KeyError names a renamed mechanism
            saved.append((owner, attr, original))
            setattr(owner, attr, wrap(label, getattr(owner, attr)))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


def _run(overrides: dict[str, int] | None, seed: int) -> tuple[float, int]:
    """One run: CPU seconds of its months, and how many."""
    from berdaya.model import P2KPModel  # noqa: PLC0415
    from berdaya.scenarios import P2KPScenario  # noqa: PLC0415

    model = P2KPModel(P2KPScenario.load(SCENARIO, rng=seed, overrides=overrides))
    gc.collect()
    t = time.process_time()
    while model.running:
        model.step()
    return time.process_time() - t, model.steps


def _reference_step_s(n: int, steps: int = 10) -> float:
    """CPU seconds of one step of BoltzmannWealth with ``n`` agents (median of steps)."""
    model = build_reference(n, SEED)
    model.step()
    times = []
    for _ in range(steps):
        t = time.process_time()
        model.step()
        times.append(time.process_time() - t)
    del model
    release_reference()
    return statistics.median(times)


def measure(
    runs: int, households: int | None, months: int | None, seed: int = SEED
) -> dict[str, Any]:
    """Time the sections of ``runs`` runs, each after a reference step's timing.

    Returns:
        ``months`` run, the month's CPU ``month_us``, each section's ``sections`` (us a
        month), ``floor_us``, ``households`` (a kelurahan) and the reference's median
        ``reference_step_us`` at that many agents.
    """
    overrides = {
        k: v for k, v in (("n_households", households), ("months", months)) if v
    }
    from berdaya.scenarios import P2KPScenario  # noqa: PLC0415

    n = households or P2KPScenario.load(SCENARIO).n_households
    _run(overrides or None, seed - 1)  # warm: imports, numba's caches
    acc: Counter[str] = Counter()
    total = months_run = 0
    references = []
    for i in range(runs):
        references.append(_reference_step_s(n))
        with timed(acc):
            cpu, steps = _run(overrides or None, seed + i)
        total += cpu
        months_run += steps
    for outer, inner in NESTED.items():
        acc[outer] -= sum(acc[k] for k in inner)
    per_month = {k: 1e6 * v / months_run for k, v in acc.items()}
    return {
        "runs": runs,
        "months": months_run / runs,
        "households": n,
        "month_us": 1e6 * total / months_run,
        "sections": per_month,
        "floor_us": sum(per_month.get(k, 0.0) for k in FLOOR),
        "reference_step_us": 1e6 * statistics.median(references),
    }


def report(m: dict[str, Any]) -> list[str]:
    """The measurement's lines: the sections, largest first, then the floor's bounds."""
    month = m["month_us"]
    out = [
        f"kedungkandang-2008, {m['households']:,} households, {m['runs']} runs of "
        f"{m['months']:.0f} months: {month:.0f} us a month of CPU (timers included)",
    ]
    for label, us in sorted(m["sections"].items(), key=lambda kv: -kv[1]):
        mark = "  (floor)" if label in FLOOR else ""
        out.append(f"  {label:18s} {us:7.1f} us  {us / month:5.1%}{mark}")
    floor, ref = m["floor_us"], m["reference_step_us"]
    out += [
        f"floor: {floor:.0f} us a month ({floor / month:.0%}); the rest "
        f"{month - floor:.0f} us",
        f"BoltzmannWealth at {m['households']:,} agents: {ref / 1000:.2f} ms a step; "
        f"the month now {ref / month:.1f}x; with all but the floor free "
        f"{ref / floor:.1f}x (issue 19: {RATIO_MIN:.0f}x)",
        f"{m['months']:.0f} months at the floor alone: {floor * m['months'] / 1000:.1f} "
        f"ms before build and records() (issue 19: a {DEFAULT_RUN_MS:.0f} ms run)",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure and print where a month goes.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sections",
        description=__doc__.splitlines()[0].replace("``", ""),
    )
    parser.add_argument("--runs", type=int, default=10, help="runs (default 10)")
    parser.add_argument("--households", type=int, help="households (the scenario's)")
    parser.add_argument("--months", type=int, help="months (the scenario's)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be an integer >= 1 (got {args.runs})")
    print("\n".join(report(measure(args.runs, args.households, args.months))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
