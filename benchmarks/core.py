"""Measurements: the Mesa reference model and P2KP runs, timed and memory-traced.

Timing uses :func:`time.perf_counter` around model construction (build) and around each
``step`` call (stepping); nothing else (scenario loading, result tables) is inside the
stepping time. Memory is measured in a separate pass (:func:`measure_memory`) with
:mod:`tracemalloc`, because tracing slows construction about fourfold; the timing pass
also records the growth of the process's peak resident set (``ru_maxrss``).
"""

from __future__ import annotations

import gc
import math
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SEED = 20080101
SCENARIO = "kedungkandang-2008"
# BoltzmannScenario's defaults put 100 agents on a 10 x 10 grid: one agent per cell.
REFERENCE_DENSITY = 1.0
# ... and the example as shipped keeps that 10 x 10 grid whatever ``n`` is.
SHIPPED_GRID = (10, 10)
MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One P2KP configuration to time.

    Attributes:
        label: Name shown in the table and the JSON.
        households: ``n_households`` override, households of each kelurahan (None: the
            scenario's own size).
        months: ``months`` override (None: the scenario's own length).
        repeats: Independent builds and runs; medians are reported.
        scenario: Shipped scenario whose rules (and, without overrides, size) are run.
        memory: Include the case in the tracemalloc pass.
    """

    label: str
    households: int | None
    months: int | None
    repeats: int
    scenario: str = SCENARIO
    memory: bool = True


@dataclass(frozen=True)
class Reference:
    """One configuration of Mesa's BoltzmannWealth example to time.

    Attributes:
        n: Number of agents.
        steps: Steps per repeat.
        repeats: Fresh builds, each stepped ``steps`` times; medians are reported.
        shipped: True: the example's own 10 x 10 grid whatever ``n`` is (as shipped,
            only ``n`` changed); False: a square grid at the example's default density
            of one agent per cell.
        memory: Include the configuration in the tracemalloc pass.
    """

    n: int
    steps: int
    repeats: int
    shipped: bool = False
    memory: bool = True

    @property
    def grid(self) -> tuple[int, int]:
        """Width and height of the grid."""
        return SHIPPED_GRID if self.shipped else reference_grid(self.n)

    @property
    def label(self) -> str:
        """Name shown in the table and the JSON."""
        if self.shipped:
            return f"BoltzmannWealth {self.n:,} (10x10)"
        return f"BoltzmannWealth {self.n:,}"


def maxrss_mb() -> float:
    """Return the process's peak resident set so far, in MiB (``ru_maxrss``)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return rss / MB if sys.platform == "darwin" else rss / 1024


def _step_profile(step_s: list[float]) -> dict[str, float]:
    """Summarise the per-step times of one run (milliseconds)."""
    ms = [1000.0 * s for s in step_s]
    quarter = max(1, len(ms) // 4)
    first = statistics.fmean(ms[:quarter])
    last = statistics.fmean(ms[-quarter:])
    return {
        "first_ms": ms[0],
        "median_ms": statistics.median(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
        "first_quarter_mean_ms": first,
        "last_quarter_mean_ms": last,
        "drift_last_over_first_quarter": last / first if first > 0 else math.nan,
    }


def _run_timed(build: Callable[[], Any], steps: int) -> tuple[float, list[float], Any]:
    """Build a model and step it, timing construction and every step.

    At most ``steps`` steps: fewer if the model stops running (a P2KP run stops
    ``followup_months`` after its programme ends; ``months`` is a cap).

    Returns:
        (build seconds, list of step seconds, the model).
    """
    gc.collect()
    t0 = time.perf_counter()
    model = build()
    build_s = time.perf_counter() - t0
    step_s = []
    for _ in range(steps):
        if not getattr(model, "running", True):
            break
        t = time.perf_counter()
        model.step()
        step_s.append(time.perf_counter() - t)
    return build_s, step_s, model


def _summarise(
    reps: list[tuple[float, list[float]]], units: int, steps: int
) -> dict[str, Any]:
    """Medians over repeats of build time, stepping time and throughput."""
    stepping = [sum(s) for _, s in reps]
    rates = [units * steps / s for s in stepping]
    median_rep = sorted(range(len(reps)), key=lambda i: stepping[i])[len(reps) // 2]
    return {
        "repeats": len(reps),
        "build_s": statistics.median(b for b, _ in reps),
        "stepping_s": statistics.median(stepping),
        "step_ms": 1000.0 * statistics.median(stepping) / steps,
        "units_steps_per_s": statistics.median(rates),
        # steady state: one unit-step per median step time, first-step costs excluded
        "steady_units_steps_per_s": statistics.median(
            units / statistics.median(s) for _, s in reps
        ),
        "per_repeat": [
            {"build_s": b, "stepping_s": sum(s), "units_steps_per_s": r}
            for (b, s), r in zip(reps, rates, strict=True)
        ],
        "steps_of_median_repeat": _step_profile(reps[median_rep][1]),
    }


def _machine_busy_s() -> float | None:
    """Return CPU-seconds all CPUs have spent busy since boot (Linux), else None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10])  # already counted in user and nice
    return (sum(fields) - idle - guest) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Measure how much CPU other processes used while the benchmark ran.

    Compares the whole machine's busy time (``/proc/stat``) with this process's own
    CPU time over the same wall-clock interval.
    """

    def __init__(self) -> None:
        """Start measuring now."""
        self._t0 = time.perf_counter()
        self._busy0 = _machine_busy_s()
        self._own0 = _own_cpu_s()
        self._result: float | None = None

    def stop(self) -> None:
        """Stop measuring."""
        busy1 = _machine_busy_s()
        if self._busy0 is None or busy1 is None:
            return
        wall = time.perf_counter() - self._t0
        own = _own_cpu_s() - self._own0
        self._result = max(0.0, (busy1 - self._busy0 - own) / wall)

    def others_cpus(self) -> float | None:
        """Average number of CPUs other processes kept busy (None off Linux)."""
        return self._result


# --- the reference ---------------------------------------------------------------------
def reference_grid(n: int) -> tuple[int, int]:
    """Return a square grid holding ``n`` agents at the example's default density."""
    side = max(1, round(math.sqrt(n / REFERENCE_DENSITY)))
    return side, side


def build_reference(n: int, seed: int = SEED, *, shipped: bool = False) -> Any:
    """Build Mesa's own BoltzmannWealth example with ``n`` agents.

    Args:
        n: Number of agents.
        seed: The scenario's ``rng``.
        shipped: Keep the example's default 10 x 10 grid (``BoltzmannScenario(n=n)``)
            instead of scaling the grid to one agent per cell.

    Returns:
        The ``BoltzmannWealth`` model, as shipped with Mesa (its DataCollector and
        DataRecorder included).
    """
    from mesa.examples.basic.boltzmann_wealth_model.model import (  # noqa: PLC0415
        BoltzmannScenario,
        BoltzmannWealth,
    )

    if shipped:
        return BoltzmannWealth(BoltzmannScenario(n=n, rng=seed))
    width, height = reference_grid(n)
    return BoltzmannWealth(BoltzmannScenario(n=n, width=width, height=height, rng=seed))


def release_reference() -> None:
    """Free the reference models Mesa still holds, so each repeat starts clean.

    Mesa 3.5's ``Cell.get_neighborhood`` and ``Cell._neighborhood`` are wrapped in an
    unbounded ``functools.cache`` keyed on the cell, which keeps every grid, its agents
    and their model alive after the model is dropped. Left alone, each repeat adds about
    100,000 objects to the heap that Python's garbage collector then keeps traversing,
    slowing every later run in the process (of either model).
    """
    from mesa.discrete_space.cell import Cell  # noqa: PLC0415

    for name in ("get_neighborhood", "_neighborhood"):
        clear = getattr(getattr(Cell, name, None), "cache_clear", None)
        if clear is not None:
            clear()
    gc.collect()


def time_reference(ref: Reference, seed: int = SEED) -> dict:
    """Time BoltzmannWealth: agent-steps per second, median over fresh builds.

    Args:
        ref: The configuration (agents, steps, repeats, grid).
        seed: Seed of every repeat.

    Returns:
        Figures of the reference (``units_steps_per_s`` is agent-steps per second).
    """
    reps = []
    rss0 = maxrss_mb()
    for _ in range(ref.repeats):
        build_s, step_s, model = _run_timed(
            lambda: build_reference(ref.n, seed, shipped=ref.shipped), ref.steps
        )
        reps.append((build_s, step_s))
        del model
        release_reference()
    width, height = ref.grid
    out = {
        "kind": "reference",
        "label": ref.label,
        "model": "mesa.examples.basic.boltzmann_wealth_model.BoltzmannWealth",
        "configuration": "as shipped (10 x 10 grid)"
        if ref.shipped
        else "density-matched (one agent per cell)",
        "units": ref.n,
        "unit_name": "agents",
        "steps": ref.steps,
        "grid": [width, height],
        "agents_per_cell": ref.n / (width * height),
        **_summarise(reps, ref.n, ref.steps),
    }
    out["agent_steps_per_s"] = out["units_steps_per_s"]
    out["maxrss_delta_mb"] = maxrss_mb() - rss0
    out["maxrss_mb"] = maxrss_mb()
    return out


# --- P2KP --------------------------------------------------------------------------------
def load_p2kp(case: Case, seed: int = SEED) -> Any:
    """Load the case's scenario with the case's overrides.

    Args:
        case: The configuration.
        seed: The run's seed.

    Returns:
        A validated ``P2KPScenario``.
    """
    from berdaya.scenarios import P2KPScenario  # noqa: PLC0415

    overrides: dict[str, int] = {}
    if case.households is not None:
        overrides["n_households"] = case.households
    if case.months is not None:
        overrides["months"] = case.months
    return P2KPScenario.load(case.scenario, rng=seed, overrides=overrides or None)


def total_households(scenario: Any) -> int:
    """Households in the whole model: ``n_households`` in each of ``n_kelurahan``."""
    return scenario.params.n_households * scenario.params.n_kelurahan


def time_p2kp(case: Case, seed: int = SEED) -> dict:
    """Time one P2KP configuration: build, then every month of the scenario.

    Args:
        case: The configuration.
        seed: Seed of every repeat (the same run is repeated).

    Returns:
        Figures of the case (``units_steps_per_s`` is household-months per second).

    Raises:
        RuntimeError: The model did not stop by the scenario's months.
    """
    from berdaya.model import P2KPModel  # noqa: PLC0415

    scenario = load_p2kp(case, seed)
    n, months = total_households(scenario), scenario.params.months
    reps = []
    load_s = []
    rss0 = maxrss_mb()
    for _ in range(case.repeats):
        t = time.perf_counter()
        scenario = load_p2kp(case, seed)
        load_s.append(time.perf_counter() - t)
        build_s, step_s, model = _run_timed(lambda s=scenario: P2KPModel(s), months)
        if model.running or model.households.n != n:
            raise RuntimeError(f"{case.label}: the run did not end by month {months}")
        reps.append((build_s, step_s))
        del model
    months = len(reps[0][1])  # the months run: the same seed stops at the same month
    out = {
        "kind": "p2kp",
        "label": case.label,
        "scenario": case.scenario,
        "kelurahan": scenario.params.n_kelurahan,
        "units": n,
        "unit_name": "households",
        "steps": months,
        "seed": seed,
        "scenario_load_s": statistics.median(load_s),
        **_summarise(reps, n, months),
    }
    out["household_months_per_s"] = out["units_steps_per_s"]
    out["build_plus_stepping_s"] = out["build_s"] + out["stepping_s"]
    out["maxrss_delta_mb"] = maxrss_mb() - rss0
    # the process's peak so far: an upper bound of this case's own peak resident set
    out["maxrss_mb"] = maxrss_mb()
    return out


# --- memory ------------------------------------------------------------------------------
def measure_memory(build: Callable[[], Any], steps: int) -> dict[str, float]:
    """Trace the memory of one build and run with :mod:`tracemalloc` (a separate pass).

    Counts every allocation made through Python's allocators, numpy arrays included,
    from the start of construction; the interpreter and imported libraries are not.

    Args:
        build: Zero-argument model factory.
        steps: Steps to run after the build.

    Returns:
        Peak during build, retained after build, peak during the run (the overall
        peak) and retained after the run, in MiB.
    """
    gc.collect()
    tracemalloc.start()
    try:
        model = build()
        after_build, build_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(steps):
            model.step()
        after_run, run_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del model
    gc.collect()
    return {
        "build_peak_mb": build_peak / MB,
        "after_build_mb": after_build / MB,
        "peak_mb": max(build_peak, run_peak) / MB,
        "after_run_mb": after_run / MB,
    }


def memory_of_reference(ref: Reference, seed: int = SEED) -> dict[str, float]:
    """Trace one BoltzmannWealth build and its steps (see :func:`measure_memory`)."""
    try:
        return measure_memory(
            lambda: build_reference(ref.n, seed, shipped=ref.shipped), ref.steps
        )
    finally:
        release_reference()


def memory_of_p2kp(case: Case, seed: int = SEED) -> dict[str, float]:
    """Trace one P2KP build and its months (see :func:`measure_memory`)."""
    from berdaya.model import P2KPModel  # noqa: PLC0415

    scenario = load_p2kp(case, seed)
    return measure_memory(lambda: P2KPModel(scenario), scenario.params.months)


def warm_up(seed: int = SEED) -> None:
    """Run both models once, small, so lazy imports and first calls are not timed."""
    build_reference(100, seed).step()
    release_reference()
    time_p2kp(Case("warm-up", 200, 3, 1), seed)
    # a small city: the code paths of several kelurahan (faskel teams, ties across)
    time_p2kp(Case("warm-up city", 60, 3, 1, scenario="kota-malang"), seed)
